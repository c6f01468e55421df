import type { EntityManager } from 'typeorm';
import { Delegation } from '../../entities/index.js';

/** Delegation ids are short; a longer one names nothing and is not looked up. */
const MAX_ID = 64;

/** A delegation by the id a page or form names, or null; whose it is, the caller decides. */
export async function findDelegation(opts: { db: EntityManager; id: string }): Promise<Delegation | null> {
  return opts.id.length <= MAX_ID ? opts.db.getRepository(Delegation).findOneBy({ id: opts.id }) : null;
}
