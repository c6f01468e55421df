import type { EntityManager } from 'typeorm';
import { Account } from '../../entities/index.js';
import { queueSecurityEvent } from '../audit/queueSecurityEvent.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';

export type DisableAccountResult = { ok: true; notified: string[] } | { ok: false; reason: 'already_disabled' };

/**
 * Marks an account disabled: from now on every way in (passkey, recovery code, sign-up with its
 * address) is refused, and the provider no longer finds the account. Agencies the person is
 * connected to (and that opted in) get a RISC account-disabled event. Ending sessions, grants
 * and delegations is the caller's next step (src/oidc/endAccountAccess.ts), after this commits,
 * so that nothing new can start while they end. Call it in a transaction.
 */
export async function disableAccount(opts: { db: EntityManager; accountId: string }): Promise<DisableAccountResult> {
  const res = await opts.db.getRepository(Account).createQueryBuilder().update()
    .set({ status: 'disabled', disabledAt: clock.now() })
    .where('id = :id AND status = :s', { id: opts.accountId, s: 'active' }).execute();
  if (!res.affected) return { ok: false, reason: 'already_disabled' };
  await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'account_disabled' });
  const notified = await queueSecurityEvent({ db: opts.db, accountId: opts.accountId, event: 'account_disabled' });
  return { ok: true, notified };
}
