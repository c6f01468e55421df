import { randomUUID } from 'node:crypto';
import { DelegatedGrant, OidcPayload } from '../../../entities/index.js';
import { disconnectAgency } from '../../../src/accounts/connectedAgencies.js';
import { createTestDb, type TestDb } from '../../support/db.js';

let db: TestDb;
beforeAll(async () => { db = await createTestDb(); });
afterAll(async () => { await db.close(); });

async function grant(accountId: string, clientId = 'agency'): Promise<string> {
  const id = randomUUID();
  await db.ds.getRepository(OidcPayload).insert({
    model: 'Grant', id, accountId, grantId: null, userCode: null, uid: null, consumedAt: null,
    payload: JSON.stringify({ accountId, clientId, openid: { scope: 'openid email' } }),
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  return id;
}

const exists = (id: string) => db.ds.getRepository(OidcPayload).existsBy({ model: 'Grant', id });

test('when a person disconnects an agency by one of their own grants, then its grants go', async () => {
  const me = randomUUID();
  const [a, b] = [await grant(me), await grant(me)];
  expect(await db.ds.transaction((m) => disconnectAgency({ db: m, accountId: me, grantId: a }))).toEqual({ ok: true });
  expect([await exists(a), await exists(b)]).toEqual([false, false]);
});

test("when the grant is someone else's, then it is not theirs to withdraw and stays", async () => {
  const other = await grant(randomUUID());
  expect(await disconnectAgency({ db: db.ds.manager, accountId: randomUUID(), grantId: other })).toEqual({ ok: false, reason: 'not_theirs' });
  expect(await exists(other)).toBe(true);
});

test("when the grant is the person's but was given acting for someone else, then it is not theirs to withdraw here", async () => {
  const helper = randomUUID();
  const delegated = await grant(helper);
  await db.ds.getRepository(DelegatedGrant).insert({ grantId: delegated, delegationId: randomUUID(), clientId: 'agency', createdAt: new Date() });
  expect(await disconnectAgency({ db: db.ds.manager, accountId: helper, grantId: delegated })).toEqual({ ok: false, reason: 'not_theirs' });
  expect(await exists(delegated)).toBe(true);
});

test('when no such grant exists, then it says not found', async () => {
  expect(await disconnectAgency({ db: db.ds.manager, accountId: randomUUID(), grantId: randomUUID() })).toEqual({ ok: false, reason: 'not_found' });
});
