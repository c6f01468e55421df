import http from 'node:http';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';

let server: SpawnedServer | undefined;
afterEach(async () => { await server?.close(); server = undefined; });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

test('when OneDoor gets SIGTERM with a request in flight, then /readyz answers 503 while it drains, new connections are refused once it stops listening, the request still completes and the process exits 0', async () => {
  // Long enough that the readiness probe below lands inside the drain even on a loaded machine.
  server = await spawnServer({ env: { DRAIN_SECONDS: '4' } });
  const port = new URL(server.url).port;
  const base = `http://127.0.0.1:${port}`;
  const ready = await get(`${base}/readyz`);
  expect(ready.status).toBe(200);
  expect(JSON.parse(ready.body)).toEqual({ status: 'ready', checks: { database: 'ok', keys: 'ok' } });

  // A request whose body is still on its way: the server cannot answer it until the client finishes.
  const body = 'grant_type=authorization_code&code=nothing-here&client_id=nobody&redirect_uri=https%3A%2F%2Fnowhere.example%2Fcb&code_verifier=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq';
  const slow = http.request(`${base}/token`, { method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), accept: 'application/json' } });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    slow.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode!, body: text }));
    }).on('error', reject);
  });
  slow.write(body.slice(0, 20));

  server.kill('SIGTERM');
  await server.waitForLine(/"msg":"shutting down"/);
  const draining = await get(`${base}/readyz`);
  expect(draining.status).toBe(503);
  expect(JSON.parse(draining.body)).toMatchObject({ status: 'draining' });

  await server.waitForLine(/no longer accepting connections/);
  // Refused, or reset when it raced the listener's close (a connection already in the accept queue).
  const refused = await get(`${base}/healthz`).then(() => 'answered', (err: { code?: string }) => err.code);
  expect(['ECONNREFUSED', 'ECONNRESET']).toContain(refused);

  slow.end(body.slice(20));
  const res = await answered;
  expect(res.status).toBe(401);
  expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_client' });
  expect(await server.exited).toBe(0);
  expect(server.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
});
