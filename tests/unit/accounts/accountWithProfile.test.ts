import { randomUUID } from 'node:crypto';
import { Account, DelegatedGrant } from '../../../entities/index.js';
import { accountWithProfile } from '../../../src/accounts/accountWithProfile.js';
import { createTestDb, type TestDb } from '../../support/db.js';

let db: TestDb;
beforeAll(async () => { db = await createTestDb(); });
afterAll(async () => { await db.close(); });

async function newAccount(): Promise<Account> {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 123);
  return db.ds.getRepository(Account).save({ id: randomUUID(), email: `a-${randomUUID().slice(0, 8)}@example.com`, status: 'disabled', disabledAt: now, emailConfirmedAt: now, failedAttempts: 2, lockedUntil: null, locale: 'es', createdAt: now });
}

test('when an account is read with its profile, then it is the entity TypeORM reads, and without a profile the state is empty', async () => {
  const saved = await newAccount();
  const { account, profile, delegationLink } = await accountWithProfile(db.ds, saved.id);
  expect(account).toEqual(await db.ds.getRepository(Account).findOneByOrFail({ id: saved.id }));
  expect(account).toBeInstanceOf(Account);
  expect(account!.disabledAt).toBeInstanceOf(Date);
  expect(account!.disabledAt!.getTime()).toBe(saved.disabledAt!.getTime());
  expect(profile).toEqual({});
  expect(delegationLink).toBeUndefined();
});

test('when asked with a grant id, then the same read says which delegation the grant is under', async () => {
  const saved = await newAccount();
  const grantId = randomUUID();
  const delegationId = randomUUID();
  expect((await accountWithProfile(db.ds, saved.id, { grantId })).delegationLink).toEqual({ grantId, delegationId: undefined });
  await db.ds.getRepository(DelegatedGrant).insert({ grantId, delegationId, clientId: 'agency', createdAt: new Date() });
  expect((await accountWithProfile(db.ds, saved.id, { grantId })).delegationLink).toEqual({ grantId, delegationId });
});

test('when there is no such account, then it says so', async () => {
  expect(await accountWithProfile(db.ds, randomUUID(), { grantId: 'g' })).toEqual({ account: null, profile: {} });
});
