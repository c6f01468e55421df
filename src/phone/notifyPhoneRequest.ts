import type { EntityManager } from 'typeorm';
import { Account } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import type { Kek } from '../proofing/vault.js';
import type { SmsSender } from '../proofing/vendors/ports.js';
import { readVerifiedIdentity } from '../proofing/verifiedProfiles.js';
import type { Translate } from '../shared/i18n.js';
import type { Mailer } from '../shared/mailer.js';

export interface NotifyPhoneRequestDeps {
  db: EntityManager;
  mailer: Mailer;
  /** The proofing vendor's SMS port: texts go only to the phone verified during proofing. */
  sms: SmsSender;
  kek: Kek;
  t: (locale: string) => Translate;
  issuer: string;
}

export type NotifyPhoneRequestResult = { ok: true; sms: 'sent' | 'none' | 'failed' } | { ok: false; reason: 'no_account' };

/**
 * Tells a person that an agency's phone agent asked OneDoor to confirm who is on the line: a line
 * in their history, a mail, and a text message to the phone they verified during identity
 * proofing (if they have one). Both carry only the link to the approval page: it names the
 * request, and nobody can answer it there without signing in with the person's passkey, so an
 * eavesdropper gains nothing. Neither carries the binding message, which the person compares with
 * what the agent reads out, on the approval page only. A text that cannot be sent does not stop
 * the mail (the result says so, for the caller's log).
 */
export async function notifyPhoneRequest(deps: NotifyPhoneRequestDeps, opts: { requestId: string; accountId: string; clientId: string; clientName: string; expiresAt: Date }): Promise<NotifyPhoneRequestResult> {
  const account = await deps.db.getRepository(Account).findOneBy({ id: opts.accountId });
  if (!account || account.status !== 'active') return { ok: false, reason: 'no_account' };
  await recordEvent({ db: deps.db, accountId: account.id, type: 'phone_request_received', clientId: opts.clientId });
  const t = deps.t(account.locale);
  const params = {
    client: opts.clientName,
    url: `${deps.issuer}/phone/${opts.requestId}`,
    time: `${opts.expiresAt.toISOString().slice(11, 16)} UTC`,
  };
  await deps.mailer.send({ to: account.email, subject: t('mail.phone_request.subject', params), text: t('mail.phone_request.body', params) });
  const phone = (await readVerifiedIdentity({ db: deps.db, kek: deps.kek, accountId: account.id }))?.identity.phone;
  if (!phone) return { ok: true, sms: 'none' };
  try {
    await deps.sms.send({ phone, text: t('phone.sms_text', params) });
    return { ok: true, sms: 'sent' };
  } catch {
    return { ok: true, sms: 'failed' };
  }
}
