import { randomUUID } from 'node:crypto';
import { observeAuditEvents, type ObservedAuditEvent } from '../../../src/audit/observeAuditEvents.js';
import { recordEvent } from '../../../src/audit/recordEvent.js';
import { createTestDb, type TestDb } from '../../support/db.js';

let db: TestDb;
const seen: ObservedAuditEvent[] = [];
beforeAll(async () => {
  db = await createTestDb();
  observeAuditEvents({ ds: db.ds, listener: (e) => seen.push(e) });
});
afterAll(async () => { await db.close(); });
beforeEach(() => { seen.length = 0; });

test('when an event is recorded outside a transaction, then it is observed with its details', async () => {
  await recordEvent({ db: db.ds.manager, accountId: randomUUID(), type: 'proofing_document_checked', details: { outcome: 'passed' } });
  expect(seen).toEqual([{ type: 'proofing_document_checked', details: { outcome: 'passed' } }]);
});

test('when events are recorded inside a transaction, then they are observed only once it commits', async () => {
  await db.ds.transaction(async (tx) => {
    await recordEvent({ db: tx, accountId: randomUUID(), type: 'account_created' });
    await recordEvent({ db: tx, accountId: randomUUID(), type: 'passkey_added', details: { name: 'key' } });
    expect(seen).toEqual([]);
  });
  expect(seen.map((e) => e.type)).toEqual(['account_created', 'passkey_added']);
});

test('when a transaction rolls back, then its events are never observed', async () => {
  await expect(db.ds.transaction(async (tx) => {
    await recordEvent({ db: tx, accountId: randomUUID(), type: 'account_created' });
    throw new Error('abandon');
  })).rejects.toThrow('abandon');
  await recordEvent({ db: db.ds.manager, accountId: randomUUID(), type: 'signed_in' });
  expect(seen.map((e) => e.type)).toEqual(['signed_in']);
});

test('when a second observer is set on the same data source, then it replaces the first (one app per data source)', async () => {
  const second: string[] = [];
  observeAuditEvents({ ds: db.ds, listener: (e) => second.push(e.type) });
  await recordEvent({ db: db.ds.manager, accountId: randomUUID(), type: 'signed_out' });
  expect(second).toEqual(['signed_out']);
  expect(seen).toEqual([]);
  observeAuditEvents({ ds: db.ds, listener: (e) => seen.push(e) });
});
