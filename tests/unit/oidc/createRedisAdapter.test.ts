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
  expect(() => new Adapter('Grant')).toThrow(/not kept in Redis/);
  expect(() => new Adapter('AccessToken')).toThrow(/not kept in Redis/);
});

test('when sessions are saved, then they are listed by account; a session now signed in as someone else, or gone, is not; ending them ends only that account\'s', async () => {
  const sessions = new Adapter('Session');
  const [alice, bob] = [randomUUID(), randomUUID()];
  const [s1, s2, s3, s4] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  await sessions.upsert(s1, { accountId: alice, uid: `u-${s1}` } as never, 600);
  await sessions.upsert(s2, { accountId: alice, uid: `u-${s2}` } as never, 60);
  await sessions.upsert(s3, { accountId: bob } as never, 600);
  await sessions.upsert(s4, { accountId: alice } as never, 600);
  await sessions.upsert(s4, { accountId: bob } as never, 600); // the same browser, now Bob
  await sessions.upsert(randomUUID(), {} as never, 600); // not signed in: indexed nowhere
  const gone = randomUUID();
  await sessions.upsert(gone, { accountId: alice } as never, 600);
  await sessions.destroy(gone);

  const ids = async (accountId: string) => (await sessions.findByAccount!(accountId)).map((x) => x.id).sort();
  expect(await ids(alice)).toEqual([s1, s2].sort());
  expect(await ids(bob)).toEqual([s3, s4].sort());
  // The account's set lives as long as its longest session.
  expect(await redis.ttl(`oidc:account:Session:${alice}`)).toBeGreaterThan(60);

  const ended = await sessions.destroyByAccount!(alice);
  expect(ended.map((x) => x.id).sort()).toEqual([s1, s2].sort());
  expect(ended[0]!.payload).toMatchObject({ accountId: alice });
  expect(await sessions.find(s1)).toBeUndefined();
  expect(await sessions.find(s2)).toBeUndefined();
  expect(await ids(alice)).toEqual([]);
  expect(await ids(bob)).toEqual([s3, s4].sort());
});

test('when an adapter operation runs, then it is one Redis command', async () => {
  const codes = new Adapter('AuthorizationCode');
  const sessions = new Adapter('Session');
  const sent: string[] = [];
  const counting = redis as unknown as { sendCommand(c: { name: string }, s?: unknown): unknown };
  const send = counting.sendCommand.bind(redis);
  counting.sendCommand = (c, st) => { sent.push(c.name); return send(c, st); };
  try {
    const id = randomUUID();
    const one = async (what: string, op: () => Promise<unknown>) => {
      sent.length = 0;
      await op();
      expect({ what, sent: sent.length }).toEqual({ what, sent: 1 });
    };
    await one('upsert with grant and uid', () => codes.upsert(id, { grantId: `g-${id}`, uid: `uid-${id}` } as never, 60));
    await one('session upsert', () => sessions.upsert(id, { accountId: `a-${id}`, uid: `su-${id}` } as never, 60));
    await one('find', () => codes.find(id));
    await one('find by uid', async () => expect(await codes.findByUid(`uid-${id}`)).toMatchObject({ grantId: `g-${id}` }));
    await one('consume', () => codes.consume(id));
    await one('revoke by grant', () => codes.revokeByGrantId(`g-${id}`));
    await one('sessions of an account', () => sessions.findByAccount!(`a-${id}`));
  } finally {
    counting.sendCommand = send;
  }
});
