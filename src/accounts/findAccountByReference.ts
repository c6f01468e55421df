import type { EntityManager } from 'typeorm';
import { Account } from '../../entities/index.js';
import { normalizeEmail } from './normalizeEmail.js';

const ACCOUNT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type FindAccountByReferenceResult =
  | { ok: true; account: Account }
  | { ok: false; reason: 'invalid_reference' | 'not_found' };

/**
 * How an operator names a person: an email address (anything with an "@", compared as it is
 * stored: trimmed and lower-cased) or an account id (a UUID, as in the audit log and
 * `accounts export`). Anything else is refused rather than guessed at.
 */
export async function findAccountByReference(opts: { db: EntityManager; reference: string }): Promise<FindAccountByReferenceResult> {
  const ref = opts.reference.trim();
  const repo = opts.db.getRepository(Account);
  if (ref.includes('@')) {
    const email = normalizeEmail(ref);
    if (!email) return { ok: false, reason: 'invalid_reference' };
    const account = await repo.findOneBy({ email });
    return account ? { ok: true, account } : { ok: false, reason: 'not_found' };
  }
  if (!ACCOUNT_ID.test(ref)) return { ok: false, reason: 'invalid_reference' };
  const account = await repo.findOneBy({ id: ref.toLowerCase() });
  return account ? { ok: true, account } : { ok: false, reason: 'not_found' };
}
