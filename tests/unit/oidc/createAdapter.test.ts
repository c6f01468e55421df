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

test('when a client does not exist, then nothing is remembered and it is found once added', async () => {
  const clients = new Adapter('Client');
  const clientId = `c-${randomUUID()}`;
  expect(await clients.find(clientId)).toBeUndefined();
  const now = new Date();
  await db.ds.getRepository(OidcClient).save({ clientId, metadata: JSON.stringify({ client_id: clientId }), createdAt: now, updatedAt: now });
  expect(await clients.find(clientId)).toMatchObject({ client_id: clientId });
});
