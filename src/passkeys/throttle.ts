import type { EntityManager } from 'typeorm';
import { Account } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';

/**
 * Throttling of failed authentication per account (NIST SP 800-63B §3.2.2): after every 10
 * consecutive failures the account waits, doubling each time; at 100 consecutive failures it
 * is locked for a day. A success resets the count.
 */
export const MAX_CONSECUTIVE_FAILURES = 100;

export function isLocked(account: Pick<Account, 'lockedUntil'>): boolean {
  return !!account.lockedUntil && account.lockedUntil.getTime() > clock.nowMs();
}

export function waitAfter(failures: number): number {
  if (failures >= MAX_CONSECUTIVE_FAILURES) return 24 * 3600;
  if (failures % 10 !== 0 || failures === 0) return 0;
  return Math.min(60 * 2 ** (failures / 10 - 1), 12 * 3600);
}

export async function noteFailedAttempt(opts: { db: EntityManager; accountId: string }): Promise<void> {
  const repo = opts.db.getRepository(Account);
  await repo.increment({ id: opts.accountId }, 'failedAttempts', 1);
  const account = await repo.findOneBy({ id: opts.accountId });
  if (!account) return;
  const wait = waitAfter(account.failedAttempts);
  if (wait > 0) {
    await repo.update({ id: account.id }, { lockedUntil: new Date(clock.nowMs() + wait * 1000) });
    await recordEvent({ db: opts.db, accountId: account.id, type: 'account_locked', details: { minutes: Math.round(wait / 60) } });
  }
}
