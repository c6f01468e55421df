import type { EntityManager } from 'typeorm';
import { EmailConfirmation } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { safeEqual } from '../shared/ids.js';
import { EMAIL_CODE_LENGTH, EMAIL_CODE_MAX_ATTEMPTS, hashEmailCode } from './startEmailConfirmation.js';

export type ConfirmEmailResult =
  | { ok: true; email: string }
  | { ok: false; reason: 'malformed' | 'no_pending' | 'invalid' | 'expired' | 'too_many_attempts' };

const folded = (code: string) => code.replace(/\s+/g, '');
const SHAPE = new RegExp(`^\\d{${EMAIL_CODE_LENGTH}}$`);

/** Whether what a person typed could be a confirmation code at all (6 digits, spaces aside). */
export function isEmailCodeShape(code: string): boolean {
  return SHAPE.test(folded(code));
}

/**
 * Checks the code a person typed. A code works once; five wrong tries end the attempt. Input that
 * cannot be a code is refused without counting as a try.
 */
export async function confirmEmailCode(opts: { db: EntityManager; pepper: string; bindingId: string; code: string }): Promise<ConfirmEmailResult> {
  if (!isEmailCodeShape(opts.code)) return { ok: false, reason: 'malformed' };
  const repo = opts.db.getRepository(EmailConfirmation);
  const pending = await repo.findOneBy({ bindingId: opts.bindingId });
  if (!pending) return { ok: false, reason: 'no_pending' };
  if (pending.confirmedAt) return { ok: true, email: pending.email };
  if (pending.expiresAt.getTime() <= clock.nowMs()) return { ok: false, reason: 'expired' };
  if (pending.attempts >= EMAIL_CODE_MAX_ATTEMPTS) return { ok: false, reason: 'too_many_attempts' };
  const matches = safeEqual(hashEmailCode(opts.pepper, pending.id, folded(opts.code)), pending.codeHash);
  if (!matches) {
    await repo.increment({ id: pending.id }, 'attempts', 1);
    return { ok: false, reason: pending.attempts + 1 >= EMAIL_CODE_MAX_ATTEMPTS ? 'too_many_attempts' : 'invalid' };
  }
  // Only one concurrent submission can flip confirmed_at (single use).
  const res = await repo.createQueryBuilder().update().set({ confirmedAt: clock.now() })
    .where('id = :id AND confirmed_at IS NULL', { id: pending.id }).execute();
  if (!res.affected) return { ok: false, reason: 'invalid' };
  return { ok: true, email: pending.email };
}

/** The address this flow's code was mailed to (confirmed or not), for counting tries per address. */
export async function pendingEmailFor(opts: { db: EntityManager; bindingId: string }): Promise<string | undefined> {
  return (await opts.db.getRepository(EmailConfirmation).findOne({ where: { bindingId: opts.bindingId }, select: { email: true } }))?.email;
}

/** The address confirmed in this flow, if any and still fresh. */
export async function confirmedEmailFor(opts: { db: EntityManager; bindingId: string }): Promise<string | undefined> {
  const pending = await opts.db.getRepository(EmailConfirmation).findOneBy({ bindingId: opts.bindingId });
  if (!pending?.confirmedAt || pending.expiresAt.getTime() <= clock.nowMs()) return undefined;
  return pending.email;
}
