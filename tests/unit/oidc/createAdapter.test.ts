import { randomUUID } from 'node:crypto';
import { OidcClient, OidcPayload } from '../../../entities/index.js';
import { CLIENT_CACHE_MS, createAdapter } from '../../../src/oidc/createAdapter.js';
import { createTestDb, type TestDb } from '../../support/db.js';

/** The database adapter on the real database of this run (SQLite, or MariaDB with DATABASE_URL). */
let db: TestDb;
let Adapter: ReturnType<typeof createAdapter>;

beforeAll(async () => {
  db = await createTestDb();
  Adapter = createAdapter(db.ds);
});
afterAll(async () => { await db.close(); });

const payload = (id: string) => ({ iss: 'agency', jti: id, kind: 'ReplayDetection' }) as never;

test('when 20 callers insert the same new id at once, then exactly one stores it', async () => {
  const replay = new Adapter('ReplayDetection');
  const id = randomUUID();
  const results = await Promise.all(Array.from({ length: 20 }, () => replay.insertNew(id, payload(id), 60)));
  expect(results.filter(Boolean)).toHaveLength(1);
  expect(await replay.find(id)).toMatchObject({ jti: id });
  expect(await replay.insertNew(id, payload(id), 60)).toBe(false);
});

test('when the id is held by an expired leftover, then a new insert takes it over, once', async () => {
  const replay = new Adapter('ReplayDetection');
  const id = randomUUID();
  await replay.upsert(id, payload(id), 60);
  await db.ds.getRepository(OidcPayload).update({ model: 'ReplayDetection', id }, { expiresAt: new Date(Date.now() - 1000) });
  expect(await replay.find(id)).toBeUndefined();
  const results = await Promise.all([replay.insertNew(id, payload(id), 60), replay.insertNew(id, payload(id), 60)]);
  expect(results.filter(Boolean)).toHaveLength(1);
  expect(await replay.find(id)).toMatchObject({ jti: id });
});

test('when a client is changed in the database, then a node sees the change within the cache time', async () => {
  const clients = new Adapter('Client');
  const clientId = `c-${randomUUID()}`;
  const now = new Date();
  const repo = db.ds.getRepository(OidcClient);
  await repo.save({ clientId, metadata: JSON.stringify({ client_id: clientId, client_name: 'Before' }), createdAt: now, updatedAt: now });
  expect(await clients.find(clientId)).toMatchObject({ client_name: 'Before' });
  await repo.update({ clientId }, { metadata: JSON.stringify({ client_id: clientId, client_name: 'After' }) });
  // Within the cache time the node answers from what it read; each answer is a fresh object.
  const cached = await clients.find(clientId);
  expect(cached).toMatchObject({ client_name: 'Before' });
  (cached as Record<string, unknown>)['client_name'] = 'changed by a caller';
  expect(await clients.find(clientId)).toMatchObject({ client_name: 'Before' });
  await new Promise((r) => setTimeout(r, CLIENT_CACHE_MS + 100));
  expect(await clients.find(clientId)).toMatchObject({ client_name: 'After' });
  await repo.delete({ clientId });
  await new Promise((r) => setTimeout(r, CLIENT_CACHE_MS + 100));
  expect(await clients.find(clientId)).toBeUndefined();
}, 20_000);

test('when a client id is asked for with trailing spaces, then it is not that client (MySQL pads)', async () => {
  const clients = new Adapter('Client');
  const clientId = `c-${randomUUID()}`;
  const now = new Date();
  await db.ds.getRepository(OidcClient).save({ clientId, metadata: JSON.stringify({ client_id: clientId }), createdAt: now, updatedAt: now });
  expect(await clients.find(`${clientId}   `)).toBeUndefined();
  expect(await clients.find(clientId)).toMatchObject({ client_id: clientId });
});

test('when a client does not exist, then nothing is remembered and it is found once added', async () => {
  const clients = new Adapter('Client');
  const clientId = `c-${randomUUID()}`;
  expect(await clients.find(clientId)).toBeUndefined();
  const now = new Date();
  await db.ds.getRepository(OidcClient).save({ clientId, metadata: JSON.stringify({ client_id: clientId }), createdAt: now, updatedAt: now });
  expect(await clients.find(clientId)).toMatchObject({ client_id: clientId });
});

test('when several artifacts are read at once, then each gets its own row, exactly by id, in one statement', async () => {
  const access = new Adapter('AccessToken');
  const refresh = new Adapter('RefreshToken');
  const id = randomUUID();
  const other = randomUUID();
  await access.upsert(id, { accountId: 'a', kind: 'AccessToken', jti: id } as never, 60);
  await refresh.upsert(other, { accountId: 'b', kind: 'RefreshToken', jti: other } as never, 60);
  let statements = 0;
  const query = db.ds.query.bind(db.ds);
  db.ds.query = ((...args: Parameters<typeof query>) => { statements += 1; return query(...args); }) as typeof query;
  try {
    const [a, b, c, d, e] = await Promise.all([
      access.find(id), refresh.find(id), access.find(other), refresh.find(other), access.find(`${id} `),
    ]);
    expect(statements).toBe(1);
    expect(a).toMatchObject({ accountId: 'a' });
    expect(b).toBeUndefined();
    expect(c).toBeUndefined();
    expect(d).toMatchObject({ accountId: 'b' });
    expect(e).toBeUndefined(); // not the row of the id it pads to
  } finally {
    db.ds.query = query;
  }
});

test('when more reads are waiting than one statement takes, then all are answered', async () => {
  const access = new Adapter('AccessToken');
  const ids = Array.from({ length: 120 }, () => randomUUID());
  await Promise.all(ids.slice(0, 60).map((id) => access.upsert(id, { jti: id } as never, 60)));
  const found = await Promise.all(ids.map((id) => access.find(id)));
  expect(found.slice(0, 60).map((p) => p?.['jti'])).toEqual(ids.slice(0, 60));
  expect(found.slice(60).every((p) => p === undefined)).toBe(true);
});

test('when a grant is revoked for a model, then that model\'s artifacts issued under it go; an interaction under the same grant stays', async () => {
  const tokens = new Adapter('AccessToken');
  const interactions = new Adapter('Interaction');
  const grantId = randomUUID();
  const [a, b, other] = [randomUUID(), randomUUID(), randomUUID()];
  await tokens.upsert(a, { grantId } as never, 60);
  await interactions.upsert(b, { grantId } as never, 600);
  await tokens.upsert(other, { grantId: randomUUID() } as never, 60);
  await tokens.revokeByGrantId(grantId);
  expect(await tokens.find(a)).toBeUndefined();
  expect(await interactions.find(b)).toBeDefined();
  expect(await tokens.find(other)).toBeDefined();
});
