import { randomUUID } from 'node:crypto';
import { Passkey } from '../../../entities/index.js';
import { passkeyExists } from '../../../src/passkeys/managePasskeys.js';
import { createTestDb, type TestDb } from '../../support/db.js';

let db: TestDb;
beforeAll(async () => { db = await createTestDb(); });
afterAll(async () => { await db.close(); });

test('when a passkey id is asked about, then it says whether any account holds it', async () => {
  const id = `pk-${randomUUID()}`;
  await db.ds.getRepository(Passkey).insert({
    id, accountId: randomUUID(), publicKey: 'k', signCount: 0, transports: '[]', backupEligible: false, backedUp: false,
    aaguid: '', attestation: 'none', attestationRoot: null, name: 'Laptop', createdAt: new Date(), lastUsedAt: null,
  });
  expect(await passkeyExists({ db: db.ds.manager, passkeyId: id })).toBe(true);
  expect(await passkeyExists({ db: db.ds.manager, passkeyId: `pk-${randomUUID()}` })).toBe(false);
});
