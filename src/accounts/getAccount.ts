import type { EntityManager } from 'typeorm';
import { Account } from '../../entities/index.js';

/** An account that must exist (its id came from a session or a verified credential). */
export async function getAccount(opts: { db: EntityManager; accountId: string }): Promise<Account> {
  return opts.db.getRepository(Account).findOneByOrFail({ id: opts.accountId });
}
