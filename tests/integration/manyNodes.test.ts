import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeProtectedHeader, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { Agent } from '../support/agent.js';
import { agencyConfigOn, registerAgency, type TestAgency } from '../support/agency.js';
import { interactionUid, signUp } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { runCli } from '../support/runCli.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestNode, type TestServer } from '../support/testServer.js';
import { rotateKeys } from '../../src/oidc/keys.js';
import { watchSigningKeys } from '../../src/oidc/watchSigningKeys.js';
import { CLOCK_TOLERANCE_SECONDS } from '../../src/oidc/createProvider.js';
import { REDIS_MODELS } from '../../src/oidc/createRedisAdapter.js';
import { accountSessions } from '../../src/oidc/accountSessions.js';
import { Redis } from 'ioredis';
import { Account } from '../../entities/index.js';

/**
 * Two OneDoor nodes on one database (and, in the second run, one Redis): every step of every
 * flow may land on either node. The agency's issuer is node A's URL; requests are sent to a node
 * by rewriting a URL's origin, as a load balancer would route them.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const via = (node: { url: string }, url: string) => { const u = new URL(url); return `${node.url}${u.pathname}${u.search}`; };
const email = () => `person-${randomUUID().slice(0, 8)}@example.com`;

const agencyOn = (agency: TestAgency, node: { url: string }) => agencyConfigOn(agency, node.url);

async function settleCount<T>(tries: Array<Promise<T>>): Promise<{ ok: T[]; failed: unknown[] }> {
  const results = await Promise.allSettled(tries);
  return {
    ok: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    failed: results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
  };
}

describe.each([
  ['on the database alone', false],
  ['with Redis for short-lived state', true],
])('two nodes %s', (_label, withRedis) => {
  let server: TestServer;
  let nodeB: TestNode;
  let agency: TestAgency;
  const prefix = `onedoor-test:${randomUUID()}:`;

  beforeAll(async () => {
    server = await startTestServer({ env: withRedis ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {} });
    nodeB = await server.startNode();
    agency = await registerAgency(server, { clientId: 'agency-many', extra: { post_logout_redirect_uris: ['https://agency-many.agency.example/'], max_ial: 2 } });
  });
  afterAll(async () => {
    if (withRedis) {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
    await server.close();
  });

  const nodeA = () => ({ url: server.url });
  const authenticatorFor = () => new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });

  async function person(params: Record<string, string> = {}) {
    const authenticator = authenticatorFor();
    const auth = await agency.authorize(params);
    const address = email();
    const { agent, landing, recoveryCodes } = await signUp({ server, authenticator, authUrl: auth.url, email: address });
    return { authenticator, agent, landing, auth, recoveryCodes, email: address };
  }

  /** Authorizes on A, runs the passkey ceremony's options on B and its answer on A. Returns the agency landing URL. */
  async function crossNodeSignIn(p: { agent: Agent; authenticator: SoftAuthenticator }, auth: { url: string }) {
    const first = await p.agent.follow(auth.url, server.url);
    const uid = interactionUid(first.url);
    await p.agent.page(via(nodeB, first.url));
    const options = await p.agent.request(`${nodeB.url}/interaction/${uid}/passkey/options`, { method: 'POST', json: { email: '' } });
    expect(options.status).toBe(200);
    const assertion = p.authenticator.getAssertion({ options: await options.json() });
    const done = await p.agent.request(`${server.url}/interaction/${uid}/passkey`, { method: 'POST', form: { response: JSON.stringify(assertion), email: '' } });
    expect(done.status).toBe(303);
    const landing = await p.agent.follow(via(nodeB, new URL(done.headers.get('location')!, server.url).toString()), nodeB.url);
    return { uid, landing: landing.url };
  }

  test('when a sign-in is authorized on A, its interaction and passkey ceremony run on B and A, then the code redeems on B and A sees the tokens', async () => {
    const p = await person();
    const again = await agency.authorize({ prompt: 'login' });
    const { landing } = await crossNodeSignIn(p, again);
    expect(landing.startsWith(agency.redirectUri)).toBe(true);

    const tokens = await oidc.authorizationCodeGrant(agencyOn(agency, nodeB), new URL(landing), { pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce, idTokenExpected: true });
    const onA = await oidc.tokenIntrospection(agencyOn(agency, nodeA()), tokens.access_token);
    expect(onA.active).toBe(true);
    expect(onA.sub).toBe(tokens.claims()!.sub);
    await oidc.tokenRevocation(agencyOn(agency, nodeA()), tokens.access_token);
    expect((await oidc.tokenIntrospection(agencyOn(agency, nodeB), tokens.access_token)).active).toBe(false);
  });

  test('when consent is asked on one node, then it is given on the other and the agency gets its code', async () => {
    const other = await registerAgency(server, { clientId: `agency-consent-${randomUUID().slice(0, 6)}` });
    const p = await person();
    const auth = await other.authorize();
    const first = await p.agent.follow(auth.url, server.url);
    const page = await p.agent.page(first.url);
    expect(page.html).toContain('consent');
    const res = await p.agent.request(`${nodeB.url}/interaction/${interactionUid(first.url)}/consent`, { method: 'POST', form: {} });
    expect(res.status).toBe(303);
    const landing = await p.agent.follow(via(nodeB, new URL(res.headers.get('location')!, server.url).toString()), nodeB.url);
    expect(landing.url.startsWith(other.redirectUri)).toBe(true);
    const tokens = await other.redeem(landing.url, auth);
    expect(tokens.access_token).toBeTruthy();
  });

  test('when a person signs out with a logout page from A confirmed on B, then the session is gone on both', async () => {
    const p = await person();
    const tokens = await agency.redeem(p.landing, p.auth);
    const end = `${server.url}/session/end?client_id=${agency.clientId}&id_token_hint=${tokens.id_token}&post_logout_redirect_uri=${encodeURIComponent('https://agency-many.agency.example/')}`;
    const page = await p.agent.page(end);
    expect(page.status).toBe(200);
    const xsrf = page.html.match(/name="xsrf" value="([^"]+)"/)![1]!;
    const confirm = await p.agent.request(`${nodeB.url}/session/end/confirm`, { method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(confirm.status).toBe(303);
    const silent = await agency.authorize({ prompt: 'none' });
    for (const node of [nodeA(), nodeB]) {
      const { url } = await p.agent.follow(via(node, silent.url), node.url);
      expect(new URL(url).searchParams.get('error')).toBe('login_required');
    }
  });

  test('when a person signed in on two devices signs out everywhere on B, then both sessions end on both nodes', async () => {
    const p = await person();
    const other = { agent: new Agent(), authenticator: p.authenticator };
    await crossNodeSignIn(other, await agency.authorize());
    const account = (node: { url: string }, agent: Agent) => agent.request(`${node.url}/account`).then((r) => r.status);
    for (const node of [nodeA(), nodeB]) {
      expect(await account(node, p.agent)).toBe(200);
      expect(await account(node, other.agent)).toBe(200);
    }
    const accountId = (await server.ds.getRepository(Account).findOneByOrFail({ email: p.email })).id;
    // What a delegation's or an identity's end uses to find the sessions, on either node.
    for (const node of [server.app, nodeB.app]) expect(await accountSessions(node.deps.provider).findByAccount(accountId)).toHaveLength(2);

    await p.agent.page(`${nodeB.url}/account`);
    const res = await p.agent.request(`${nodeB.url}/account/sign-out-everywhere`, { method: 'POST', form: {} });
    expect(res.status).toBe(303);
    for (const node of [nodeA(), nodeB]) {
      expect(await account(node, p.agent)).toBe(303);
      expect(await account(node, other.agent)).toBe(303);
    }
    for (const node of [server.app, nodeB.app]) expect(await accountSessions(node.deps.provider).findByAccount(accountId)).toHaveLength(0);
  });

  test('when an operator disables an account with the CLI, then its sessions end on both nodes, wherever they are kept', async () => {
    const p = await person();
    await p.agent.page(`${nodeB.url}/account`);
    expect((await p.agent.request(`${nodeB.url}/account`)).status).toBe(200);
    const result = await runCli(server, ['accounts', 'disable', p.email]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('ended 1 session(s)');
    for (const node of [nodeA(), nodeB]) expect((await p.agent.request(`${node.url}/account`)).status).toBe(303);
  });

  test('when identity verification switches node at every request, then it completes and the person is verified', async () => {
    const p = await person();
    let requests = 0;
    // Each step's page, form post and passkey ceremony land on alternating nodes.
    const alternating = { get url() { requests += 1; return requests % 2 ? nodeB.url : server.url; }, outboxDir: server.outboxDir } as unknown as TestServer;
    const { personalKey } = await verifyIdentity({ server: alternating, agent: p.agent, authenticator: p.authenticator });
    expect(personalKey).toBeTruthy();
    expect(requests).toBeGreaterThan(10);
    const auth = await agency.authorize({ acr_values: 'urn:acr.login.gov:verified', prompt: 'login' });
    const { landing } = await crossNodeSignIn(p, auth);
    const tokens = await agency.redeem(landing, auth);
    expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified');
  });

  test('when 20 redemptions of one authorization code race on both nodes, then exactly one gets tokens', async () => {
    const p = await person();
    const tries = Array.from({ length: 20 }, (_, i) => oidc.authorizationCodeGrant(agencyOn(agency, i % 2 ? nodeB : nodeA()), new URL(p.landing), { pkceCodeVerifier: p.auth.verifier, expectedState: p.auth.state, expectedNonce: p.auth.nonce, idTokenExpected: true }));
    const { ok, failed } = await settleCount(tries);
    expect(ok).toHaveLength(1);
    for (const err of failed) expect((err as { error?: string }).error).toBe('invalid_grant');
  });

  test('when 20 uses of one refresh token race on both nodes, then exactly one gets new tokens', async () => {
    const p = await person({ scope: 'openid email offline_access', prompt: 'consent' });
    const tokens = await agency.redeem(p.landing, p.auth);
    expect(tokens.refresh_token).toBeTruthy();
    const { ok, failed } = await settleCount(Array.from({ length: 20 }, (_, i) => oidc.refreshTokenGrant(agencyOn(agency, i % 2 ? nodeB : nodeA()), tokens.refresh_token!)));
    expect(ok).toHaveLength(1);
    for (const err of failed) expect((err as { error?: string }).error).toBe('invalid_grant');
  });

  test('when one recovery code is tried 20 times at once on both nodes, then exactly one sign-in succeeds', async () => {
    const p = await person();
    const code = p.recoveryCodes[0]!;
    const attempts = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const agent = new Agent();
      const auth = await agency.authorize({ prompt: 'login' });
      const first = await agent.follow(auth.url, server.url);
      const node = i % 2 ? nodeB : nodeA();
      await agent.page(via(node, `${first.url}/recovery`));
      return { agent, node, url: `${node.url}/interaction/${interactionUid(first.url)}/recovery` };
    }));
    const results = await Promise.all(attempts.map((a) => a.agent.request(a.url, { method: 'POST', form: { email: p.email, code } })));
    expect(results.filter((r) => r.status === 303)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(19);
  });

  test('when 20 wrong recovery codes for one account arrive at once on both nodes, then the tenth failure makes the account wait', async () => {
    const p = await person();
    const attempts = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const agent = new Agent();
      const first = await agent.follow((await agency.authorize({ prompt: 'login' })).url, server.url);
      const node = i % 2 ? nodeB : nodeA();
      await agent.page(via(node, `${first.url}/recovery`));
      return { agent, url: `${node.url}/interaction/${interactionUid(first.url)}/recovery` };
    }));
    const results = await Promise.all(attempts.map((a) => a.agent.request(a.url, { method: 'POST', form: { email: p.email, code: 'AAAA-BBBB-CCCC' } })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(400));
    // Attempts that find the account already waiting are not counted again.
    const account = await server.ds.getRepository(Account).findOneByOrFail({ email: p.email });
    expect(account.failedAttempts).toBeGreaterThanOrEqual(10);
    expect(account.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
  });

  test('when one passkey assertion (one challenge) is submitted 20 times at once on both nodes, then exactly one signs in', async () => {
    const p = await person();
    const again = await agency.authorize({ prompt: 'login' });
    const first = await p.agent.follow(again.url, server.url);
    const uid = interactionUid(first.url);
    await p.agent.page(first.url);
    const options = await p.agent.request(`${nodeB.url}/interaction/${uid}/passkey/options`, { method: 'POST', json: { email: '' } });
    const assertion = JSON.stringify(p.authenticator.getAssertion({ options: await options.json() }));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => p.agent.request(`${(i % 2 ? nodeB : nodeA()).url}/interaction/${uid}/passkey`, { method: 'POST', form: { response: assertion, email: '' } })));
    expect(results.filter((r) => r.status === 303)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(19);
  });

  test('when signing keys are rotated once in KEYS_DIR, then both running nodes publish and sign with the new keys', async () => {
    const watchers = [server.app, nodeB.app].map((app) => watchSigningKeys({ provider: app.deps.provider, keys: app.deps.keys, keysDir: server.config.keysDir, intervalSeconds: 3600 }));
    try {
      const fresh = await rotateKeys(server.config.keysDir);
      for (const w of watchers) expect(w.check()).toEqual({ changed: true, kids: expect.arrayContaining(fresh) });
      for (const node of [nodeA(), nodeB]) {
        const { keys } = await (await fetch(`${node.url}/jwks`)).json() as { keys: Array<{ kid: string }> };
        expect(keys.map((k) => k.kid)).toEqual(expect.arrayContaining(fresh));
      }
      const p = await person();
      const again = await agency.authorize({ prompt: 'login' });
      const { landing } = await crossNodeSignIn(p, again);
      const tokens = await oidc.authorizationCodeGrant(agencyOn(agency, nodeB), new URL(landing), { pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce, idTokenExpected: true });
      expect(fresh).toContain(decodeProtectedHeader(tokens.id_token!).kid);
      // Nothing changed since: the next check is a no-op.
      for (const w of watchers) expect(w.check()).toEqual({ changed: false });
    } finally {
      for (const w of watchers) w.stop();
    }
  });

  test('when jwks.json in KEYS_DIR is half written, then the node keeps its keys and reports why, in /readyz too, until the file is usable again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-badkeys-'));
    const before = await (await fetch(`${nodeB.url}/jwks`)).json();
    const watcher = watchSigningKeys({ provider: nodeB.app.deps.provider, keys: nodeB.app.deps.keys, keysDir: dir, intervalSeconds: 3600 });
    try {
      fs.writeFileSync(path.join(dir, 'jwks.json'), '{"keys": [{"kty": "EC"');
      expect(watcher.check()).toEqual({ changed: false, problem: { reason: 'not_json' } });
      fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [] }));
      expect(watcher.check()).toEqual({ changed: false, problem: { reason: 'no_keys' } });
      expect(await (await fetch(`${nodeB.url}/jwks`)).json()).toEqual(before);
      expect(await (await fetch(`${nodeB.url}/readyz`)).json()).toEqual({ status: 'ready', checks: expect.objectContaining({ database: 'ok', keys: 'reload_failed' }) });
      // A usable file again: the node says so.
      fs.copyFileSync(path.join(server.config.keysDir, 'jwks.json'), path.join(dir, 'jwks.json'));
      expect(watcher.check()).not.toHaveProperty('problem');
      expect(await (await fetch(`${nodeB.url}/readyz`)).json()).toEqual({ status: 'ready', checks: expect.objectContaining({ database: 'ok', keys: 'ok' }) });
    } finally {
      watcher.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  if (withRedis) {
    test('when Redis is configured, then codes, interactions, sessions and WebAuthn challenges live in Redis under the prefix and not in the database', async () => {
      const p = await person();
      const code = new URL(p.landing).searchParams.get('code')!;
      const redis = new Redis(REDIS_URL);
      try {
        expect(await redis.exists(`${prefix}oidc:AuthorizationCode:${code}`)).toBe(1);
        expect(await redis.ttl(`${prefix}oidc:AuthorizationCode:${code}`)).toBeGreaterThan(0);
      } finally {
        await redis.quit();
      }
      const rows = await server.ds.query('SELECT model FROM oidc_payloads') as Array<{ model: string }>;
      for (const row of rows) expect(REDIS_MODELS.has(row.model)).toBe(false);
      expect(rows.map((r) => r.model)).toEqual(expect.arrayContaining(['Grant']));
      expect(await server.ds.query('SELECT id FROM webauthn_challenges')).toEqual([]);
      const redisKeys = new Redis(REDIS_URL);
      try {
        expect((await redisKeys.keys(`${prefix}oidc:Session:*`)).length).toBeGreaterThan(0);
        expect((await redisKeys.keys(`${prefix}oidc:account:Session:*`)).length).toBeGreaterThan(0);
      } finally {
        await redisKeys.quit();
      }
    });
  }
});

describe.each([
  ['on the database', false],
  ['on Redis', true],
])('shared rate limits %s', (_label, withRedis) => {
  let server: TestServer;
  let nodeB: TestNode;
  const prefix = `onedoor-test:${randomUUID()}:`;

  // 0.02 × 300 page posts a minute = 6; 0.02 × 1200 token requests a minute = 24.
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_MULTIPLIER: '0.02', ...(withRedis ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}) } });
    nodeB = await server.startNode();
  });
  afterAll(async () => {
    if (withRedis) {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
    await server.close();
  });

  test('when page posts alternate between nodes A and B, then the seventh is refused with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i += 1) {
      last = await fetch(`${i % 2 ? nodeB.url : server.url}/interaction/nothing-here/login`, { method: 'POST', redirect: 'manual' });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 6)).not.toContain(429);
    expect(statuses[6]).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('when token requests alternate between nodes, then the 25th is refused with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 25; i += 1) {
      last = await fetch(`${i % 2 ? nodeB.url : server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', client_id: 'nobody' }) });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 24)).not.toContain(429);
    expect(statuses[24]).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await last!.json()).error).toBe('too_many_requests');
  });
});

describe('client assertions and clock skew', () => {
  let server: TestServer;
  let agency: TestAgency;
  beforeAll(async () => {
    server = await startTestServer();
    agency = await registerAgency(server, { clientId: 'agency-skew' });
  });
  afterAll(async () => { await server.close(); });

  async function introspectWith(offsetSeconds: number): Promise<number> {
    const now = Math.floor(Date.now() / 1000) + offsetSeconds;
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: agency.kid })
      .setIssuer(agency.clientId).setSubject(agency.clientId).setAudience(server.url)
      .setJti(randomUUID()).setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 60)
      .sign(agency.privateKey);
    const res = await fetch(`${server.url}/token/introspection`, {
      method: 'POST',
      body: new URLSearchParams({ token: 'not-a-token', client_id: agency.clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    });
    return res.status;
  }

  test('when an agency clock runs a little ahead (within the tolerance), then its client assertion is accepted', async () => {
    expect(await introspectWith(CLOCK_TOLERANCE_SECONDS - 5)).toBe(200);
  });

  test('when an agency clock runs further ahead than the tolerance, then its client assertion is refused', async () => {
    expect(await introspectWith(CLOCK_TOLERANCE_SECONDS + 30)).toBe(401);
  });
});
