import type { EntityManager } from 'typeorm';
import { Account, SecurityEventDelivery } from '../../entities/index.js';
import { queueSecurityEvent, SECURITY_EVENT_TYPES } from '../audit/queueSecurityEvent.js';
import { recordEvent } from '../audit/recordEvent.js';

export type EnableAccountResult = { ok: true; notified: string[] } | { ok: false; reason: 'not_disabled' };

/**
 * Lets a disabled account sign in again, and nothing more: the sessions, consents and
 * delegations that ended when it was disabled stay ended. The agencies that were told of the
 * disabling are told it is enabled again (RISC account-enabled). Call it in a transaction.
 */
export async function enableAccount(opts: { db: EntityManager; accountId: string }): Promise<EnableAccountResult> {
  const res = await opts.db.getRepository(Account).createQueryBuilder().update()
    .set({ status: 'active', disabledAt: null, failedAttempts: 0, lockedUntil: null })
    .where('id = :id AND status = :s', { id: opts.accountId, s: 'disabled' }).execute();
  if (!res.affected) return { ok: false, reason: 'not_disabled' };
  await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'account_enabled' });
  const told = await opts.db.getRepository(SecurityEventDelivery).find({
    where: { accountId: opts.accountId, eventType: SECURITY_EVENT_TYPES.account_disabled }, select: { id: true, clientId: true },
  });
  const notified = told.length ? await queueSecurityEvent({ db: opts.db, accountId: opts.accountId, event: 'account_enabled', clientIds: told.map((t) => t.clientId) }) : [];
  return { ok: true, notified };
}
