import { createTestDb } from '../support/db.js';
import { Account } from '../../entities/index.js';

test('when migrations run on the test database, then the accounts table accepts rows', async () => {
  const db = await createTestDb();
  try {
    await db.ds.getRepository(Account).insert({ id: 'a1', email: 'x@example.com', status: 'active', emailConfirmedAt: new Date(), failedAttempts: 0, lockedUntil: null, locale: 'en', createdAt: new Date() });
    const row = await db.ds.getRepository(Account).findOneByOrFail({ id: 'a1' });
    expect(row.email).toBe('x@example.com');
    expect(row.emailConfirmedAt).toBeInstanceOf(Date);
    await expect(db.ds.getRepository(Account).findOneBy({ id: undefined as unknown as string })).rejects.toThrow();
  } finally {
    await db.close();
  }
});
