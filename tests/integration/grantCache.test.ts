import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type Provider from 'oidc-provider';
import { Account, OidcPayload } from '../../entities/index.js';
import { disconnectAgency } from '../../src/accounts/connectedAgencies.js';
import { revokeAllGrants } from '../../src/accounts/revokeAllGrants.js';
import { grantCacheOf, redisGrantCache, useGrantCache } from '../../src/shared/grantCache.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { SHARED_REDIS_URL, sharedRedisAnswers } from '../support/redisServer.js';

/**
 * Grants stay in the database and token requests read them through a Redis copy
 * (src/shared/grantCache.ts). A revoked grant must never answer from its copy, whichever way it
 * was revoked, and a revocation Redis cannot record must not happen at all. Runs when a Redis
 * server answers.
 */
const REDIS_URL = SHARED_REDIS_URL;

const withRedis = await sharedRedisAnswers();

(withRedis ? describe : describe.skip)('grants read through a Redis copy', () => {
  const prefix = `onedoor-test:${randomUUID()}:`;
  let server: TestServer;
  let agency: TestAgency;
  let raw: Redis;
  const provider = (): Provider => server.provider;

  beforeAll(async () => {
    server = await startTestServer({ env: { REDIS_URL, REDIS_KEY_PREFIX: prefix } });
    agency = await registerAgency(server, { clientId: 'agency-grants' });
    raw = new Redis(REDIS_URL, { keyPrefix: prefix });
  });
  afterAll(async () => {
    const plain = new Redis(REDIS_URL);
    const keys = await plain.keys(`${prefix}*`);
    if (keys.length) await plain.del(...keys);
    await plain.quit();
    await raw.quit();
    await server.close();
  });

  /** A person who signed in at the agency (one grant), and a second grant whose copy is in Redis. */
  async function personWithCopiedGrant(): Promise<{ accountId: string; grantId: string }> {
    const email = `person-${randomUUID().slice(0, 8)}@example.com`;
    const auth = await agency.authorize();
    await signUp({ server, authenticator: new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }), authUrl: auth.url, email });
    const accountId = (await server.ds.getRepository(Account).findOneByOrFail({ email })).id;
    const grant = new (provider().Grant)({ accountId, clientId: agency.clientId });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    await raw.del(`grant-copy:${grantId}`);
    expect(await provider().Grant.find(grantId)).toBeDefined(); // read from the database, copied
    expect(await raw.get(`grant-copy:${grantId}`)).toContain(accountId);
    return { accountId, grantId };
  }

  async function expectGone(grantId: string) {
    expect(await provider().Grant.find(grantId)).toBeUndefined();
    expect(await raw.get(`grant-copy:${grantId}`)).toBe('revoked');
    expect(await server.ds.getRepository(OidcPayload).existsBy({ model: 'Grant', id: grantId })).toBe(false);
  }

  test('when a grant is read, then later reads come from its copy', async () => {
    const { grantId } = await personWithCopiedGrant();
    await raw.set(`grant-copy:${grantId}`, JSON.stringify({ p: JSON.stringify({ jti: grantId, marker: 'from-redis' }), e: null }), 'KEEPTTL');
    expect(await provider().Grant.find(grantId)).toMatchObject({ jti: grantId });
    expect(((await provider().Grant.adapter.find(grantId)) as { marker?: string }).marker).toBe('from-redis');
  });

  test('when all of a person\'s consents are withdrawn, then no copy answers', async () => {
    const { accountId, grantId } = await personWithCopiedGrant();
    await server.ds.transaction((db) => revokeAllGrants({ db, accountId }));
    await expectGone(grantId);
  });

  test('when the person disconnects the agency, then no copy answers', async () => {
    const { accountId, grantId } = await personWithCopiedGrant();
    expect(await disconnectAgency({ db: server.ds.manager, accountId, grantId })).toEqual({ ok: true });
    await expectGone(grantId);
  });

  test('when oidc-provider destroys a grant, then no copy answers', async () => {
    const { grantId } = await personWithCopiedGrant();
    await (await provider().Grant.find(grantId))!.destroy();
    await expectGone(grantId);
  });

  test('when a request read the grant just before it was revoked, then it cannot put a copy back', async () => {
    const { accountId, grantId } = await personWithCopiedGrant();
    const row = await server.ds.getRepository(OidcPayload).findOneByOrFail({ model: 'Grant', id: grantId });
    await server.ds.transaction((db) => revokeAllGrants({ db, accountId }));
    await grantCacheOf(server.ds)!.fill(grantId, row.payload, null); // the late reader
    await expectGone(grantId);
  });

  test('when Redis cannot record a revocation, then the revocation fails and the grant stays as it was', async () => {
    const { accountId, grantId } = await personWithCopiedGrant();
    const working = grantCacheOf(server.ds)!;
    useGrantCache(server.ds, { ...working, revoke: async () => { throw new Error('connection is closed'); } });
    try {
      await expect(server.ds.transaction((db) => revokeAllGrants({ db, accountId }))).rejects.toThrow('connection is closed');
    } finally {
      useGrantCache(server.ds, redisGrantCache(server.app.redis!));
    }
    expect(await server.ds.getRepository(OidcPayload).existsBy({ model: 'Grant', id: grantId })).toBe(true);
    expect(await provider().Grant.find(grantId)).toBeDefined();
  });
});
