import { jest } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { agencyConfigOn, registerAgency, type TestAgency } from '../support/agency.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import type { TestServer } from '../support/testServer.js';
import { OidcClient } from '../../entities/index.js';
import { loadOrCreateKeys, rotateKeys } from '../../src/oidc/keys.js';

/**
 * Two real OneDoor processes (`src/main.ts` under tsx) on one database and one KEYS_DIR, as two
 * machines behind a load balancer: node A dies mid-flow (SIGKILL, nothing flushed), node B
 * finishes what A started.
 */
jest.setTimeout(120_000);

let db: TestDb;
let dir: string;
let keysDir: string;
let outboxDir: string;
let issuer: string;
const processes: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/**
 * Starts `node --import tsx src/main.ts` (one process: SIGKILL reaches the server itself, not a
 * wrapper) and resolves once it listens.
 */
async function startProcess(port: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env['PATH'], HOME: process.env['HOME'], NODE_ENV: 'test',
      PORT: String(port), ISSUER: issuer, DATABASE_URL: db.url, KEYS_DIR: keysDir, OUTBOX_DIR: outboxDir,
      LOG_LEVEL: 'silent', RATE_LIMIT_MULTIPLIER: '100', KEYS_CHECK_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(child);
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('OneDoor is running')) resolve(); });
    child.once('exit', (code) => reject(new Error(`OneDoor exited with ${code}: ${stderr.slice(-2000)}`)));
  });
  return { url: `http://localhost:${port}`, child };
}

beforeAll(async () => {
  db = await createTestDb();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-proc-'));
  keysDir = path.join(dir, 'keys');
  outboxDir = path.join(dir, 'outbox');
  await loadOrCreateKeys(keysDir);
});
afterAll(async () => {
  await Promise.all(processes.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => {
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGKILL');
    return exited;
  }));
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('when node A issues a code and is killed with SIGKILL, then node B redeems it exactly once and picks up a key rotation without a restart', async () => {
  const portA = await freePort();
  const portB = await freePort();
  issuer = `http://localhost:${portA}`;
  const [a, b] = await Promise.all([startProcess(portA), startProcess(portB)]);

  // Just enough of a TestServer for the shared helpers: node A's URL, the outbox, client registration.
  const viaA = {
    url: a.url, outboxDir,
    async addClient(metadata: Record<string, unknown>) {
      const now = new Date();
      await db.ds.getRepository(OidcClient).save({ clientId: String(metadata['client_id']), metadata: JSON.stringify(metadata), createdAt: now, updatedAt: now });
    },
  } as unknown as TestServer;
  const agency: TestAgency = await registerAgency(viaA, { clientId: `agency-${randomUUID().slice(0, 6)}` });
  const auth = await agency.authorize();
  const { landing } = await signUp({ server: viaA, authenticator: new SoftAuthenticator({ origin: a.url, rpId: 'localhost' }), authUrl: auth.url, email: `p-${randomUUID().slice(0, 8)}@example.com` });
  expect(landing.startsWith(agency.redirectUri)).toBe(true);

  const exited = new Promise((resolve) => a.child.once('exit', resolve));
  a.child.kill('SIGKILL');
  await exited;

  const onB = agencyConfigOn(agency, b.url);
  const tokens = await oidc.authorizationCodeGrant(onB, new URL(landing), { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce, idTokenExpected: true });
  expect(tokens.access_token).toBeTruthy();
  const again = await oidc.authorizationCodeGrant(onB, new URL(landing), { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce, idTokenExpected: true }).catch((err: { error?: string }) => err);
  expect((again as { error?: string }).error).toBe('invalid_grant');

  // Node B checks KEYS_DIR every second: wait (bounded by the test timeout) until it publishes.
  const fresh = await rotateKeys(keysDir);
  let published: string[] = [];
  while (!fresh.every((kid) => published.includes(kid))) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    published = ((await (await fetch(`${b.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  }
  expect(published).toEqual(expect.arrayContaining(fresh));
});
