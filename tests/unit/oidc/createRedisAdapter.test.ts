import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisAdapter } from '../../../src/oidc/createRedisAdapter.js';

/** The Redis adapter against the machine's real Redis, under a prefix of its own. */
const prefix = `onedoor-test:${randomUUID()}:`;
let redis: Redis;
let Adapter: ReturnType<typeof createRedisAdapter>;

beforeAll(() => {
  redis = new Redis('redis://127.0.0.1:6379', { keyPrefix: prefix });
  Adapter = createRedisAdapter({ redis });
});
afterAll(async () => {
  const raw = new Redis('redis://127.0.0.1:6379');
  const keys = await raw.keys(`${prefix}*`);
  if (keys.length) await raw.del(...keys);
  await raw.quit();
  await redis.quit();
});

test('when an artifact is stored, then it is found with its TTL, by id and by uid', async () => {
  const codes = new Adapter('AuthorizationCode');
  const id = randomUUID();
  await codes.upsert(id, { grantId: 'g1', uid: `uid-${id}`, accountId: 'a1' } as never, 60);
  expect(await codes.find(id)).toMatchObject({ grantId: 'g1', accountId: 'a1' });
  expect(await codes.findByUid(`uid-${id}`)).toMatchObject({ grantId: 'g1' });
  const ttl = await redis.ttl(`oidc:AuthorizationCode:${id}`);
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(60);
  expect(await codes.find(randomUUID())).toBeUndefined();
});

test('when 20 consumptions of one code race, then exactly one wins and the others get invalid_grant', async () => {
  const codes = new Adapter('AuthorizationCode');
  const id = randomUUID();
  await codes.upsert(id, { grantId: 'g2' } as never, 60);
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => codes.consume(id)));
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  for (const r of results) if (r.status === 'rejected') expect((r.reason as { error?: string }).error).toBe('invalid_grant');
  expect((await codes.find(id))?.consumed).toEqual(expect.any(Number));
});

test('when 20 callers insert the same new id at once, then exactly one stores it, for its TTL', async () => {
  const replay = new Adapter('PushedAuthorizationRequest');
  const id = randomUUID();
  const results = await Promise.all(Array.from({ length: 20 }, () => replay.insertNew(id, { iss: 'agency', jti: id } as never, 30)));
  expect(results.filter(Boolean)).toHaveLength(1);
  expect(await replay.find(id)).toMatchObject({ jti: id });
  const ttl = await redis.ttl(`oidc:PushedAuthorizationRequest:${id}`);
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(30);
});

test('when a missing artifact is consumed, then it is refused and nothing is created', async () => {
  const codes = new Adapter('AuthorizationCode');
  const id = randomUUID();
  await expect(codes.consume(id)).rejects.toMatchObject({ error: 'invalid_grant' });
  expect(await redis.exists(`oidc:AuthorizationCode:${id}`)).toBe(0);
});

test('when a grant is revoked for a model, then that model\'s artifacts issued under it go; an interaction under the same grant and other grants\' artifacts stay', async () => {
  const codes = new Adapter('AuthorizationCode');
  const interactions = new Adapter('Interaction');
  const grantId = randomUUID();
  const [a, b, other] = [randomUUID(), randomUUID(), randomUUID()];
  await codes.upsert(a, { grantId } as never, 60);
  await interactions.upsert(b, { grantId } as never, 600);
  await codes.upsert(other, { grantId: randomUUID() } as never, 60);
  expect(await redis.ttl(`oidc:grant:${grantId}`)).toBeGreaterThan(60);
  await codes.revokeByGrantId(grantId);
  expect(await codes.find(a)).toBeUndefined();
  expect(await interactions.find(b)).toBeDefined();
  expect(await codes.find(other)).toBeDefined();
  await interactions.revokeByGrantId(grantId);
  expect(await interactions.find(b)).toBeUndefined();
});

test('when a model that must stay durable is asked of the Redis adapter, then it refuses', () => {
  expect(() => new Adapter('RefreshToken')).toThrow(/not kept in Redis/);
  expect(() => new Adapter('Session')).toThrow(/not kept in Redis/);
});
