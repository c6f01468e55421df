import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { VerifiedProfile } from '../../entities/index.js';
import { createPersonalKey, type Kek, loadOrCreateKek, openRecord, openRecordWithPersonalKey, parseSealed, sealRecord, serializeSealed, VaultError, wrapDataKeyWithPersonalKey } from '../../src/proofing/vault.js';
import { deactivateForRecovery, profileAad, reactivateWithPersonalKey } from '../../src/proofing/verifiedProfiles.js';
import { createTestDb, type TestDb } from '../support/db.js';

/**
 * Re-activation with the personal key (after an account recovery), on the real database: the
 * identity comes back re-sealed under a new data key, so the used personal key and a copy of
 * the row from before (a backup, a dump) cannot open what is stored now.
 */
let db: TestDb;
let dir: string;
let kek: Kek;

beforeAll(async () => {
  db = await createTestDb();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-reactivate-'));
  kek = await loadOrCreateKek({ keysDir: dir });
});
afterAll(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const identity = { givenName: 'JANE', familyName: 'SAMPLE', birthdate: '1985-04-12', ssn: '123456789', address: { street1: '123 MAIN ST', city: 'RICHMOND', state: 'VA', postalCode: '23219' } };

/** A verified profile set aside by an account recovery, as completeProofing and deactivateForRecovery leave it. */
async function pendingProfile(): Promise<{ accountId: string; personalKey: string; row: VerifiedProfile }> {
  const accountId = randomUUID();
  const sealed = sealRecord({ kek, plaintext: identity, aad: profileAad(accountId) });
  const personalKey = createPersonalKey();
  const now = new Date();
  await db.ds.getRepository(VerifiedProfile).insert({
    accountId, status: 'active', ial: 2, verifiedAt: now, facialMatch: false, createdAt: now,
    sealed: serializeSealed(sealed), personalKeyWrapped: wrapDataKeyWithPersonalKey({ sealed, kek, personalKey, aad: profileAad(accountId) }),
  });
  await deactivateForRecovery({ db: db.ds.manager, accountId });
  return { accountId, personalKey, row: await db.ds.getRepository(VerifiedProfile).findOneByOrFail({ accountId }) };
}

const reactivate = (accountId: string, personalKey: string) => db.ds.transaction((m) => reactivateWithPersonalKey({ db: m, kek, accountId, personalKey }));

test('when a person re-activates with the personal key, then the identity is re-sealed under a new data key: the old key with the old row or the new row opens nothing new, the new key opens it', async () => {
  const { accountId, personalKey, row: before } = await pendingProfile();
  const result = await reactivate(accountId, personalKey);
  expect(result).toEqual({ ok: true, personalKey: expect.any(String) });
  const newKey = result.ok ? result.personalKey : '';
  const after = await db.ds.getRepository(VerifiedProfile).findOneByOrFail({ accountId });
  expect(after.status).toBe('active');

  const aad = profileAad(accountId);
  const [oldSealed, newSealed] = [parseSealed(before.sealed), parseSealed(after.sealed)];
  // A new record: another data key (another wrap by the KEK), another ciphertext.
  expect(newSealed.wrappedKey).not.toBe(oldSealed.wrappedKey);
  expect(newSealed.ciphertext).not.toBe(oldSealed.ciphertext);
  expect(after.personalKeyWrapped).not.toBe(before.personalKeyWrapped);
  // The old personal key with the old wrap (from a backup) unwraps the old data key, which does
  // not open the new record.
  expect(() => openRecordWithPersonalKey({ sealed: newSealed, personalKeyWrapped: before.personalKeyWrapped, personalKey, aad })).toThrow(VaultError);
  // The old personal key with the new wrap: wrong key.
  expect(openRecordWithPersonalKey({ sealed: newSealed, personalKeyWrapped: after.personalKeyWrapped, personalKey, aad })).toBeUndefined();
  // The new key opens the new record, and so does the KEK: the same identity.
  expect(openRecordWithPersonalKey({ sealed: newSealed, personalKeyWrapped: after.personalKeyWrapped, personalKey: newKey, aad })).toEqual(identity);
  expect(openRecord({ kek, sealed: newSealed, aad })).toEqual(identity);
  // The new key does not open the old backup.
  expect(openRecordWithPersonalKey({ sealed: oldSealed, personalKeyWrapped: before.personalKeyWrapped, personalKey: newKey, aad })).toBeUndefined();
});

test('when the used personal key is tried again, or the same key is sent twice at once, then only one re-activation happens and a used key opens nothing', async () => {
  const { accountId, personalKey } = await pendingProfile();
  // Outside a transaction (SQLite runs one at a time per connection): the update alone decides.
  const results = await Promise.all([0, 1].map(() => reactivateWithPersonalKey({ db: db.ds.manager, kek, accountId, personalKey })));
  expect(results.filter((r) => r.ok)).toHaveLength(1);
  const issued = results.find((r) => r.ok)!;
  const row = await db.ds.getRepository(VerifiedProfile).findOneByOrFail({ accountId });
  // The key handed out is the one that opens what is stored.
  expect(openRecordWithPersonalKey({ sealed: parseSealed(row.sealed), personalKeyWrapped: row.personalKeyWrapped, personalKey: issued.ok ? issued.personalKey : '', aad: profileAad(accountId) })).toEqual(identity);
  // Set aside again (another recovery): the used key is refused, the current one works.
  await deactivateForRecovery({ db: db.ds.manager, accountId });
  expect(await reactivate(accountId, personalKey)).toEqual({ ok: false, reason: 'wrong_key' });
  expect(await reactivate(accountId, issued.ok ? issued.personalKey : '')).toEqual({ ok: true, personalKey: expect.any(String) });
});

test("when someone re-activates another account's profile with their own personal key, then it is refused and nothing changes", async () => {
  const mine = await pendingProfile();
  const theirs = await pendingProfile();
  expect(await reactivate(theirs.accountId, mine.personalKey)).toEqual({ ok: false, reason: 'wrong_key' });
  expect(await db.ds.getRepository(VerifiedProfile).findOneByOrFail({ accountId: theirs.accountId })).toEqual(theirs.row);
});
