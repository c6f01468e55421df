import { randomUUID } from 'node:crypto';
import { IsNull, type EntityManager } from 'typeorm';
import { Account, RecoveryCode } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';
import { hmac, isReadableCode, normalizeReadableCode, randomReadableCode } from '../shared/ids.js';
import { noteWrongRecoveryCode, recoveryCodesPaused } from './recoveryCodeThrottle.js';

export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_CODE_CHARS = 12;

/** Whether what a person typed could be a recovery code at all (12 readable characters once folded). */
export function isRecoveryCodeShape(code: string): boolean {
  return isReadableCode(normalizeReadableCode(code), RECOVERY_CODE_CHARS);
}

function hashRecoveryCode(pepper: string, accountId: string, code: string): string {
  return hmac(pepper, `recovery:${accountId}:${normalizeReadableCode(code)}`);
}

/**
 * Replaces an account's recovery codes with ten new ones and returns them: the only time they
 * exist in clear. Stored as keyed hashes (each code carries 60 bits of entropy).
 */
export async function issueRecoveryCodes(opts: { db: EntityManager; pepper: string; accountId: string }): Promise<string[]> {
  const repo = opts.db.getRepository(RecoveryCode);
  await repo.delete({ accountId: opts.accountId });
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => randomReadableCode(3, 4));
  await repo.insert(codes.map((code) => ({
    id: randomUUID(), accountId: opts.accountId, codeHash: hashRecoveryCode(opts.pepper, opts.accountId, code), usedAt: null, createdAt: clock.now(),
  })));
  return codes;
}

export async function countUnusedRecoveryCodes(opts: { db: EntityManager; accountId: string }): Promise<number> {
  return opts.db.getRepository(RecoveryCode).createQueryBuilder('r')
    .where('r.account_id = :a AND r.used_at IS NULL', { a: opts.accountId }).getCount();
}

export type RedeemRecoveryCodeResult =
  | { ok: true; accountId: string }
  /** `triedAccountId`: an active account whose recovery codes were just tried without success (its owner is told). */
  | { ok: false; reason: 'malformed' | 'invalid' | 'locked' | 'disabled'; triedAccountId?: string };

/**
 * Signs in with an email and one recovery code. The code is spent by the update that marks
 * it used (exactly one of concurrent tries wins). Unknown address, wrong code and paused codes
 * answer alike; only a right code for a disabled account learns that it is disabled (and is not
 * spent). Input that cannot be a code is refused before anything counts; while the account's
 * codes wait (recoveryCodeThrottle.ts), a code is refused without being checked or counted.
 */
export async function redeemRecoveryCode(opts: { db: EntityManager; pepper: string; email: string; code: string }): Promise<RedeemRecoveryCodeResult> {
  if (!isRecoveryCodeShape(opts.code)) return { ok: false, reason: 'malformed' };
  const normalized = normalizeReadableCode(opts.code);
  const account = await opts.db.getRepository(Account).findOneBy({ email: opts.email });
  if (!account) return { ok: false, reason: 'invalid' };
  if (account.status !== 'active') {
    const right = await opts.db.getRepository(RecoveryCode).existsBy({ accountId: account.id, codeHash: hashRecoveryCode(opts.pepper, account.id, normalized), usedAt: IsNull() });
    return { ok: false, reason: right ? 'disabled' : 'invalid' };
  }
  if (recoveryCodesPaused(account)) return { ok: false, reason: 'locked', triedAccountId: account.id };
  const res = await opts.db.getRepository(RecoveryCode).createQueryBuilder().update()
    .set({ usedAt: clock.now() })
    .where('account_id = :a AND code_hash = :h AND used_at IS NULL', { a: account.id, h: hashRecoveryCode(opts.pepper, account.id, normalized) })
    .execute();
  if (!res.affected) {
    await noteWrongRecoveryCode({ db: opts.db, accountId: account.id });
    return { ok: false, reason: 'invalid', triedAccountId: account.id };
  }
  await opts.db.getRepository(Account).update({ id: account.id }, { failedAttempts: 0, lockedUntil: null });
  await recordEvent({ db: opts.db, accountId: account.id, type: 'signed_in_with_recovery_code' });
  return { ok: true, accountId: account.id };
}
