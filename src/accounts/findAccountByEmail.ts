import type { EntityManager } from 'typeorm';
import { Account } from '../../entities/index.js';

/** The account with this (already normalized) address, if any. */
export async function findAccountByEmail(opts: { db: EntityManager; email: string }): Promise<Account | null> {
  return opts.db.getRepository(Account).findOneBy({ email: opts.email });
}
