import type { EntityManager } from 'typeorm';
import { Account } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';

/**
 * Per-account throttling of wrong recovery codes (NIST SP 800-63B-4 §3.2.2, rate limiting): a
 * recovery code is a look-up secret someone else can guess, so consecutive wrong codes are
 * bounded. After every 10 consecutive wrong codes the account's recovery codes wait, 1 minute
 * doubling each time (at most 12 hours); at 100 consecutive wrong codes they wait a day, and
 * after that every further wrong code waits another day. A right code ends the count.
 *
 * While they wait, a code is refused without being checked or counted: tries during a wait
 * neither add up nor extend it, so a stranger cannot keep an account's recovery codes paused by
 * posting codes, and after a day's wait its owner can use a right code again.
 *
 * Passkeys take no part: an assertion cannot be guessed, so someone else's wrong codes never stop
 * the owner signing in, stepping up or confirming with their passkey, and a passkey sign-in does
 * not reset this count (that would hand a guesser a fresh hundred).
 */
export const RECOVERY_CODE_THROTTLE = { stepFailures: 10, firstWaitSeconds: 60, maxStepWaitSeconds: 12 * 3600, maxConsecutiveFailures: 100, dayWaitSeconds: 24 * 3600 } as const;

/** Whether the account's recovery codes are waiting now (a code is refused unchecked). */
export function recoveryCodesPaused(account: Pick<Account, 'lockedUntil'>): boolean {
  return !!account.lockedUntil && account.lockedUntil.getTime() > clock.nowMs();
}

/** How long recovery codes wait after the `failures`-th consecutive wrong code (0: no wait). */
export function waitAfter(failures: number): number {
  const r = RECOVERY_CODE_THROTTLE;
  if (failures >= r.maxConsecutiveFailures) return r.dayWaitSeconds;
  if (failures === 0 || failures % r.stepFailures !== 0) return 0;
  return Math.min(r.firstWaitSeconds * 2 ** (failures / r.stepFailures - 1), r.maxStepWaitSeconds);
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

/** Counts one wrong recovery code; at a step, the account's recovery codes start waiting (and the person's history says so). */
export async function noteWrongRecoveryCode(opts: { db: EntityManager; accountId: string }): Promise<void> {
  const failures = await countFailure(opts.db, opts.accountId);
  if (failures === undefined) return;
  const wait = waitAfter(failures);
  if (wait > 0) {
    await opts.db.getRepository(Account).update({ id: opts.accountId }, { lockedUntil: new Date(clock.nowMs() + wait * 1000) });
    await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'recovery_codes_paused', details: { minutes: Math.round(wait / 60) } });
  }
}
