import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { Account } from '../../entities/index.js';
import { interactionUid, openAuthorization, signIn, signUp, signUpToPasskeyStep } from '../support/flows.js';
import { startRedisServer, type RedisServer } from '../support/redisServer.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.js';
import { startTestServer, type TestNode, type TestServer } from '../support/testServer.js';

/**
 * Redis holds interactions, authorization codes, PAR requests and rate-limit counters when
 * REDIS_URL is set. Two nodes share a redis-server of this test's own (never the shared one on
 * 6379) behind a TCP proxy the test cuts, or that it restarts empty.
 */
let redis: RedisServer;
let proxy: TcpProxy;
let server: TestServer;
let node2: TestNode;
let agency: TestAgency;

beforeAll(async () => {
  redis = await startRedisServer();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
  server = await startTestServer({ env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_KEY_PREFIX: `faults-${randomUUID().slice(0, 6)}:` } });
  node2 = await server.startNode();
  agency = await registerAgency(server, { clientId: 'redis-faults-agency' });
}, 60_000);
afterEach(() => proxy.restore());
afterAll(async () => {
  proxy.restore();
  await server?.close();
  await proxy?.close();
  await redis?.stop();
});

const newAuthenticator = () => new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
const newEmail = () => `rf-${randomUUID().slice(0, 8)}@example.com`;
const nodes = () => [server.listenUrl, node2.url];

/** Time one call; Redis gone must fail fast, never hang. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - start };
}

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not met in time');
}

async function tableCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['accounts', 'passkeys', 'oidc_payloads', 'audit_events']) {
    const [row] = await server.db.ds.query(`SELECT COUNT(*) AS n FROM ${table}`) as Array<{ n: string | number }>;
    out[table] = Number(row!.n);
  }
  return out;
}

/** A client assertion (private_key_jwt) the test can send twice. */
async function clientAssertion(jti = randomUUID()): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: agency.kid }).setIssuer(agency.clientId).setSubject(agency.clientId)
    .setAudience(server.url).setJti(jti).setIssuedAt().setExpirationTime('60s').sign(agency.privateKey);
}

async function refreshWith(refreshToken: string, assertion: string, on = server.listenUrl): Promise<Response> {
  return fetch(`${on}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: agency.clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
  });
}

/** An authorization request sent to one node (same issuer, as behind a load balancer). */
async function authUrlOn(node: string, params: Record<string, string> = {}): Promise<string> {
  const u = new URL((await agency.authorize(params)).url);
  return `${node}${u.pathname}${u.search}`;
}

describe('Redis faults on two nodes', () => {
  test('when Redis becomes unreachable mid-flow, then pages and protocol endpoints answer 503 quickly on both nodes, /readyz fails, nothing is written to SQL, and both recover without restart', async () => {
    const auth = await agency.authorize({ scope: 'openid email offline_access', prompt: 'consent' });
    const { landing } = await signUp({ server, authenticator: newAuthenticator(), authUrl: auth.url, email: newEmail() });
    const tokens = await agency.redeem(landing, auth);
    const waiting = new Agent();
    const uid = interactionUid(await openAuthorization(waiting, server, (await agency.authorize()).url));
    const before = await tableCounts();

    proxy.cut();

    for (const node of nodes()) {
      const page = await timed(() => waiting.request(`${node}/interaction/${uid}/signup`));
      expect(page.value.status).toBe(503);
      expect(page.ms).toBeLessThan(4000);
      const html = await page.value.text();
      expect(html).toContain('OneDoor is temporarily unavailable');
      expect(html).not.toMatch(/MaxRetriesPerRequest|ECONNREFUSED|Connection is closed|Command timed out|at .*\.ts:\d+/);

      const browser = await timed(async () => new Agent().request(await authUrlOn(node)));
      expect(browser.value.status).toBe(503);
      expect(browser.ms).toBeLessThan(4000);
      expect(browser.value.headers.get('location')).toBeNull();

      const refreshed = await timed(async () => refreshWith(tokens.refresh_token!, await clientAssertion(), node));
      expect(refreshed.value.status).toBe(503);
      expect(refreshed.ms).toBeLessThan(4000);
      expect(await refreshed.value.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });

      const ready = await fetch(`${node}/readyz`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).checks.redis).toMatch(/^(failed|timeout)$/);
    }
    expect(await tableCounts()).toEqual(before);

    proxy.restore();

    for (const node of nodes()) await until(async () => (await fetch(`${node}/readyz`)).status === 200);
    const again = await refreshWith(tokens.refresh_token!, await clientAssertion(), node2.url);
    expect(again.status).toBe(200);
    const next = await agency.authorize();
    const other = await signUp({ server, authenticator: newAuthenticator(), authUrl: next.url, email: newEmail() });
    expect((await agency.redeem(other.landing, next)).access_token).toBeDefined();
  }, 60_000);

  test('when Redis is cut at the moment the sign-in of a new account is saved, then no account is written, the person gets a 503 page, and trying again creates it once', async () => {
    const email = newEmail();
    const { postPasskey } = await signUpToPasskeyStep({ server, authenticator: newAuthenticator(), authUrl: (await agency.authorize()).url, email });
    const accountsWith = async () => (await server.db.ds.getRepository(Account).findBy({ email })).length;

    // The interaction's result (the new account signed in) is on its way to Redis when the connection dies.
    const cut = proxy.cutWhen(/"login":\{"accountId"/);
    const failed = await postPasskey();
    await cut;
    expect(failed.status).toBe(503);
    expect(await failed.text()).toContain('OneDoor is temporarily unavailable');
    expect(await accountsWith()).toBe(0);

    proxy.restore();
    await until(async () => (await fetch(`${server.listenUrl}/readyz`)).status === 200);
    const retried = await postPasskey();
    expect(retried.status).toBe(200);
    expect(await retried.text()).toMatch(/<li><code>[0-9A-Z-]+<\/code><\/li>/);
    expect(await accountsWith()).toBe(1);
  }, 60_000);

  test('when Redis freezes (connections open, no answers), then requests answer 503 within seconds instead of hanging, and recover when it thaws', async () => {
    const auth = await agency.authorize({ scope: 'openid email offline_access', prompt: 'consent' });
    const { landing } = await signUp({ server, authenticator: newAuthenticator(), authUrl: auth.url, email: newEmail() });
    const tokens = await agency.redeem(landing, auth);
    redis.pause();
    try {
      const [browser, refreshed] = await Promise.all([
        timed(async () => new Agent().request(await authUrlOn(node2.url))),
        timed(async () => refreshWith(tokens.refresh_token!, await clientAssertion())),
      ]);
      expect(browser.value.status).toBe(503);
      expect(refreshed.value.status).toBe(503);
      expect(Math.max(browser.ms, refreshed.ms)).toBeLessThan(6000);
    } finally {
      redis.resume();
    }
    for (const node of nodes()) await until(async () => (await fetch(`${node}/readyz`)).status === 200);
    expect((await new Agent().request(await authUrlOn(node2.url))).status).toBe(303);
  }, 60_000);

  test('when Redis restarts empty, then an authorization in flight ends on a clear page, a fresh sign-in works, and a client assertion used before the restart is still refused after it', async () => {
    const authenticator = newAuthenticator();
    const email = newEmail();
    const auth = await agency.authorize({ scope: 'openid email offline_access', prompt: 'consent' });
    const { landing } = await signUp({ server, authenticator, authUrl: auth.url, email });
    const tokens = await agency.redeem(landing, auth);
    const waiting = new Agent();
    const uid = interactionUid(await openAuthorization(waiting, server, (await agency.authorize()).url));
    const assertion = await clientAssertion();
    const first = await refreshWith(tokens.refresh_token!, assertion);
    expect(first.status).toBe(200);
    const { refresh_token: refreshToken } = await first.json() as { refresh_token: string };

    await redis.stop();
    await redis.start();
    for (const node of nodes()) await until(async () => (await fetch(`${node}/readyz`)).status === 200);

    const lost = await waiting.request(`${server.url}/interaction/${uid}/signup`);
    expect(lost.status).toBeGreaterThanOrEqual(400);
    expect(lost.status).toBeLessThan(500);
    const html = await lost.text();
    expect(html).toContain('Go back to the agency');
    expect(html).not.toMatch(/at .*\.ts:\d+/);

    // The same assertion again, on either node: a replay, whatever Redis forgot.
    for (const node of nodes()) {
      const replay = await refreshWith(refreshToken, assertion, node);
      expect(replay.status).toBe(401);
      expect(await replay.json()).toMatchObject({ error: 'invalid_client' });
    }
    expect((await refreshWith(refreshToken, await clientAssertion(), node2.url)).status).toBe(200);

    const next = await agency.authorize();
    const { landing: again } = await signIn({ server, authenticator, authUrl: next.url, email });
    expect((await agency.redeem(again, next)).access_token).toBeDefined();
  }, 60_000);
});
