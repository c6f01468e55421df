import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Delegation } from '../../../entities/index.js';
import { findDelegation } from '../../../src/delegation/findDelegation.js';
import { createTestDb, type TestDb } from '../../support/db.js';

let db: TestDb;
beforeAll(async () => { db = await createTestDb(); });
afterAll(async () => { await db.close(); });

test('when a delegation is named by its id, then it is found; an unknown id finds nothing', async () => {
  const id = randomUUID();
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  await db.ds.getRepository(Delegation).insert({
    id, principalId: randomUUID(), helperId: randomUUID(), inviteeEmail: 'helper@example.com', initiatedBy: 'principal', status: 'active',
    clientIds: '["agency"]', scopes: '["openid"]', startsAt: now, endsAt: new Date(now.getTime() + 86_400_000), createdAt: now, updatedAt: now,
  });
  expect((await findDelegation({ db: db.ds.manager, id }))?.id).toBe(id);
  expect(await findDelegation({ db: db.ds.manager, id: randomUUID() })).toBeNull();
});

test('when the id is longer than any delegation id, then nothing is looked up', async () => {
  const spy = jest.spyOn(db.ds.manager, 'getRepository');
  try {
    expect(await findDelegation({ db: db.ds.manager, id: 'x'.repeat(65) })).toBeNull();
    expect(spy).not.toHaveBeenCalled();
  } finally {
    spy.mockRestore();
  }
});
