import { createHash, createHmac, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Agent } from '../support/agent.js';
import { registerAgency } from '../support/agency.js';
import { interactionUid, openAuthorization } from '../support/flows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * Issue 17, finding 5c: rate-limit counters (the `rate_limits` table, or Redis) are keyed by the
 * addresses and account ids they count. A plain SHA-256 of an email or IPv4 address is undone by
 * hashing every candidate, so a dump would say who was counted; the keys are an HMAC under the
 * pepper (KEYS_DIR/secrets.json), which the dump does not hold.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const sha256 = (v: string) => createHash('sha256').update(v).digest('base64url');
const hmacOf = (server: TestServer, prefix: string, key: string) => createHmac('sha256', server.keys.secrets.pepper).update(`rate-limit:${prefix}:${key}`).digest('base64url');

/** Starts a sign-up for `email` from a fresh browser: the sign-up mail is counted per address and per IP. */
async function startSignUp(server: TestServer, email: string): Promise<void> {
  const agency = await registerAgency(server, { clientId: `agency-keys-${randomUUID().slice(0, 6)}` });
  const agent = new Agent();
  const url = await openAuthorization(agent, server, (await agency.authorize()).url);
  const base = `${server.url}/interaction/${interactionUid(url)}`;
  await agent.page(`${base}/signup`);
  expect((await agent.request(`${base}/signup`, { method: 'POST', form: { email } })).status).toBe(303);
}

describe('in the database', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer(); });
  afterAll(async () => { await server.close(); });

  test('when an address is counted, then its stored key is the HMAC under the pepper, not its SHA-256, and no key holds the address or the IP', async () => {
    const email = `keys-${randomUUID().slice(0, 8)}@example.com`;
    await startSignUp(server, email);
    const keys = (await server.ds.query('SELECT limit_key FROM rate_limits') as Array<{ limit_key: string }>).map((r) => r.limit_key);
    expect(keys).toContain(`signup-mail-address:${hmacOf(server, 'signup-mail-address', email)}`);
    expect(keys).toContain(`signup-mail-ip:${hmacOf(server, 'signup-mail-ip', '127.0.0.1')}`);
    for (const k of keys) {
      expect(k).not.toContain(sha256(email));
      expect(k).not.toContain(sha256('127.0.0.1'));
      expect(k).not.toContain(email);
      expect(k).not.toContain('127.0.0.1');
    }
  });
});

describe('in Redis', () => {
  let server: TestServer;
  const prefix = `onedoor-test:${randomUUID()}:`;
  beforeAll(async () => { server = await startTestServer({ env: { REDIS_URL, REDIS_KEY_PREFIX: prefix } }); });
  afterAll(async () => {
    await server.close();
    const raw = new Redis(REDIS_URL);
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length) await raw.del(...keys);
    await raw.quit();
  });

  test('when an address is counted, then its Redis key is the HMAC under the pepper, not its SHA-256', async () => {
    const email = `keys-${randomUUID().slice(0, 8)}@example.com`;
    await startSignUp(server, email);
    const raw = new Redis(REDIS_URL);
    try {
      const keys = await raw.keys(`${prefix}rl:*`);
      expect(keys).toContain(`${prefix}rl:signup-mail-address:${hmacOf(server, 'signup-mail-address', email)}`);
      for (const k of keys) {
        expect(k).not.toContain(sha256(email));
        expect(k).not.toContain(sha256('127.0.0.1'));
        expect(k).not.toContain(email);
      }
    } finally {
      await raw.quit();
    }
  });
});
