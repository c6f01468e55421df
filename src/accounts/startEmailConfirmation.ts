import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Account, EmailConfirmation } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { hmac, randomDigits } from '../shared/ids.js';
import type { Translate } from '../shared/i18n.js';
import type { Mailer } from '../shared/mailer.js';

export const EMAIL_CODE_LENGTH = 6;
export const EMAIL_CODE_TTL_SECONDS = 15 * 60;
export const EMAIL_CODE_MAX_ATTEMPTS = 5;

export function hashEmailCode(pepper: string, confirmationId: string, code: string): string {
  return hmac(pepper, `email-code:${confirmationId}:${code}`);
}

/**
 * Starts a sign-up for `email` within one flow (`bindingId`). Sends a one-time code; if the
 * address already has an account, sends a "you already have an account" note instead (or,
 * for a disabled account, a note saying so), so the page and timing are the same either way
 * (no account enumeration).
 */
export async function startEmailConfirmation(opts: {
  db: EntityManager;
  mailer: Mailer;
  t: Translate;
  pepper: string;
  bindingId: string;
  email: string;
  signInUrl: string;
}): Promise<void> {
  const existing = await opts.db.getRepository(Account).findOneBy({ email: opts.email });
  const repo = opts.db.getRepository(EmailConfirmation);
  await repo.delete({ bindingId: opts.bindingId });
  if (existing) {
    // Only the address's owner learns whether the account is disabled; the page is the same.
    const mail = existing.status === 'disabled' ? 'mail.disabled_account' : 'mail.existing_account';
    await opts.mailer.send({
      to: opts.email,
      subject: opts.t(`${mail}.subject`),
      text: opts.t(`${mail}.body`, { url: opts.signInUrl }),
    });
    // A confirmation no code can match keeps the next step identical for both cases.
    await repo.insert({
      id: randomUUID(), bindingId: opts.bindingId, email: opts.email, codeHash: 'none', attempts: 0,
      expiresAt: new Date(clock.nowMs() + EMAIL_CODE_TTL_SECONDS * 1000), confirmedAt: null, createdAt: clock.now(),
    });
    return;
  }
  const id = randomUUID();
  const code = randomDigits(EMAIL_CODE_LENGTH);
  await repo.insert({
    id,
    bindingId: opts.bindingId,
    email: opts.email,
    codeHash: hashEmailCode(opts.pepper, id, code),
    attempts: 0,
    expiresAt: new Date(clock.nowMs() + EMAIL_CODE_TTL_SECONDS * 1000),
    confirmedAt: null,
    createdAt: clock.now(),
  });
  await opts.mailer.send({
    to: opts.email,
    subject: opts.t('mail.confirm_email.subject', { code }),
    text: opts.t('mail.confirm_email.body', { code, minutes: EMAIL_CODE_TTL_SECONDS / 60 }),
  });
}
