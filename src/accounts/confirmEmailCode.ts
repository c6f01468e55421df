import type { EntityManager } from 'typeorm';
import { EmailConfirmation } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { safeEqual } from '../shared/ids.js';
import { EMAIL_CODE_MAX_ATTEMPTS, hashEmailCode } from './startEmailConfirmation.js';

export type ConfirmEmailResult =
  | { ok: true; email: string }
  | { ok: false; reason: 'no_pending' | 'invalid' | 'expired' | 'too_many_attempts' };

/** Checks the code a person typed. A code works once; five wrong tries end the attempt. */
export async function confirmEmailCode(opts: { db: EntityManager; pepper: string; bindingId: string; code: string }): Promise<ConfirmEmailResult> {
  const repo = opts.db.getRepository(EmailConfirmation);
  const pending = await repo.findOneBy({ bindingId: opts.bindingId });
  if (!pending) return { ok: false, reason: 'no_pending' };
  if (pending.confirmedAt) return { ok: true, email: pending.email };
  if (pending.expiresAt.getTime() <= clock.nowMs()) return { ok: false, reason: 'expired' };
  if (pending.attempts >= EMAIL_CODE_MAX_ATTEMPTS) return { ok: false, reason: 'too_many_attempts' };
  const code = opts.code.replace(/\s+/g, '');
  const matches = /^\d{6,10}$/.test(code) && safeEqual(hashEmailCode(opts.pepper, pending.id, code), pending.codeHash);
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

/** The address confirmed in this flow, if any and still fresh. */
export async function confirmedEmailFor(opts: { db: EntityManager; bindingId: string }): Promise<string | undefined> {
  const pending = await opts.db.getRepository(EmailConfirmation).findOneBy({ bindingId: opts.bindingId });
  if (!pending?.confirmedAt || pending.expiresAt.getTime() <= clock.nowMs()) return undefined;
  return pending.email;
}
