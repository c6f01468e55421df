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

/**
 * Adds one failure and returns the account's new count, read atomically with the increment, so
 * each of many concurrent failures — on any node — sees its own count and no step of ten is
 * skipped. SQLite says it in one statement; MySQL has no UPDATE … RETURNING, so the read shares
 * the update's transaction (the row stays locked until it ends).
 */
async function countFailure(db: EntityManager, accountId: string): Promise<number | undefined> {
  if (db.connection.options.type === 'mysql') {
    return db.transaction(async (m) => {
      await m.getRepository(Account).increment({ id: accountId }, 'failedAttempts', 1);
      return (await m.getRepository(Account).findOneBy({ id: accountId }))?.failedAttempts;
    });
  }
  const rows = await db.query('UPDATE accounts SET failed_attempts = failed_attempts + 1 WHERE id = ? RETURNING failed_attempts', [accountId]) as Array<{ failed_attempts: number }>;
  return rows[0]?.failed_attempts;
}

export async function noteFailedAttempt(opts: { db: EntityManager; accountId: string }): Promise<void> {
  const failures = await countFailure(opts.db, opts.accountId);
  if (failures === undefined) return;
  const wait = waitAfter(failures);
  if (wait > 0) {
    await opts.db.getRepository(Account).update({ id: opts.accountId }, { lockedUntil: new Date(clock.nowMs() + wait * 1000) });
    await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'account_locked', details: { minutes: Math.round(wait / 60) } });
  }
}
