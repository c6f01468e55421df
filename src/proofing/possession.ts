import { ProofingSession } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';
import type { Translate } from '../shared/i18n.js';
import { hmac, randomDigits, safeEqual } from '../shared/ids.js';
import type { ProofingContext } from './proofingContext.js';
import { completeStep, readDraft, updateDraft, type ProofingState } from './proofingSessions.js';
import { VendorUnavailable } from './vendors/ports.js';

/** NIST SP 800-63A: a phone code lives minutes; a letter's code 21 days (it travels by post). */
export const PHONE_CODE = { length: 6, ttlSeconds: 10 * 60 } as const;
export const LETTER_CODE = { length: 8, ttlSeconds: 21 * 24 * 3600 } as const;
export const MAX_CODE_ATTEMPTS = 5;
// Numbers remembered in the draft for deleting their SMS from the outbox with the account.
const PHONES_KEPT = 20;

const hashCode = (pepper: string, sessionId: string, code: string) => hmac(pepper, `proofing-code:${sessionId}:${code}`);

/** A US phone number as E.164 (+1 and ten digits, NANP area and exchange rules), or undefined. */
export function normalizeUsPhone(input: string): string | undefined {
  const digits = input.replace(/[\s().+-]/g, '');
  if (!/^\d+$/.test(digits)) return undefined;
  const national = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  if (!/^[2-9]\d{2}[2-9]\d{6}$/.test(national)) return undefined;
  return `+1${national}`;
}

/** A typed code without the spaces and hyphens people add. */
const foldCode = (code: string) => code.replace(/[\s-]/g, '');

/** Whether what a person typed could be the code sent by `channel`: its length, digits only (before anything counts it as a try). */
export function isPossessionCodeShape(code: string, channel: 'sms' | 'letter'): boolean {
  const folded = foldCode(code);
  return folded.length === (channel === 'sms' ? PHONE_CODE : LETTER_CODE).length && /^\d+$/.test(folded);
}

/**
 * The postal address a letter would go to (the one on the ID), folded so that one letterbox is
 * one key however it was typed: what letters are counted against per destination.
 */
export function letterDestination(ctx: ProofingContext, state: ProofingState): string | undefined {
  const a = readDraft(ctx, state.session).document?.address;
  if (!a) return undefined;
  return [a.street1, a.street2 ?? '', a.city, a.state, a.postalCode.slice(0, 5)].map((v) => v.toUpperCase().replace(/[^0-9A-Z]+/g, ' ').trim()).join('|');
}

export type SendCodeResult = { ok: true } | { ok: false; reason: 'phone_format' | 'unavailable' | 'incomplete' };

/** Sends a one-time code by SMS to prove the person holds this phone. Stored only as a hash. */
export async function sendPhoneCode(ctx: ProofingContext, opts: { state: ProofingState; phone: string; t: Translate }): Promise<SendCodeResult> {
  const phone = normalizeUsPhone(opts.phone);
  if (!phone) return { ok: false, reason: 'phone_format' };
  const { session } = opts.state;
  const code = randomDigits(PHONE_CODE.length);
  try {
    await ctx.vendors.sms.send({ phone, text: opts.t('verify.sms_text', { code, minutes: PHONE_CODE.ttlSeconds / 60 }) });
  } catch (err) {
    if (!(err instanceof VendorUnavailable)) throw err;
    return { ok: false, reason: 'unavailable' };
  }
  const phonesTried = [...new Set([...(readDraft(ctx, session).phonesTried ?? []), phone])].slice(-PHONES_KEPT);
  await updateDraft(ctx, session, { phone, phonesTried }, {
    codeChannel: 'sms', codeHash: hashCode(ctx.pepper, session.id, code), codeExpiresAt: new Date(clock.nowMs() + PHONE_CODE.ttlSeconds * 1000), codeAttempts: 0,
  });
  await recordEvent({ db: ctx.db, accountId: session.accountId, type: 'proofing_code_sent', details: { channel: 'sms' } });
  return { ok: true };
}

/** Sends a one-time code by letter to the address on the document; valid 21 days. */
export async function sendLetterCode(ctx: ProofingContext, opts: { state: ProofingState; t: Translate; url: string }): Promise<SendCodeResult> {
  const { session } = opts.state;
  const draft = readDraft(ctx, session);
  if (!draft.document) return { ok: false, reason: 'incomplete' };
  const code = randomDigits(LETTER_CODE.length);
  const name = [draft.document.firstName, draft.document.lastName].join(' ');
  try {
    await ctx.vendors.letters.send({ name, address: draft.document.address, text: opts.t('verify.letter_text', { code, url: opts.url, days: LETTER_CODE.ttlSeconds / 86400 }) });
  } catch (err) {
    if (!(err instanceof VendorUnavailable)) throw err;
    return { ok: false, reason: 'unavailable' };
  }
  await ctx.db.getRepository(ProofingSession).update({ id: session.id }, {
    status: 'pending_letter', codeChannel: 'letter', codeHash: hashCode(ctx.pepper, session.id, code),
    codeExpiresAt: new Date(clock.nowMs() + LETTER_CODE.ttlSeconds * 1000), codeAttempts: 0, updatedAt: clock.now(),
  });
  await recordEvent({ db: ctx.db, accountId: session.accountId, type: 'proofing_code_sent', details: { channel: 'letter' } });
  return { ok: true };
}

export type ConfirmCodeResult = { ok: true; state: ProofingState } | { ok: false; reason: 'malformed' | 'no_code' | 'expired' | 'too_many_attempts' | 'invalid' };

/** Checks the code from the SMS or letter: single use, expires, five wrong tries end it; what cannot be a code is not a try. */
export async function confirmPossessionCode(ctx: ProofingContext, opts: { state: ProofingState; code: string }): Promise<ConfirmCodeResult> {
  const repo = ctx.db.getRepository(ProofingSession);
  const session = await repo.findOneBy({ id: opts.state.session.id });
  if (!session?.codeHash || !session.codeChannel) return { ok: false, reason: 'no_code' };
  if (!session.codeExpiresAt || session.codeExpiresAt.getTime() <= clock.nowMs()) return { ok: false, reason: 'expired' };
  if (session.codeAttempts >= MAX_CODE_ATTEMPTS) return { ok: false, reason: 'too_many_attempts' };
  if (!isPossessionCodeShape(opts.code, session.codeChannel)) return { ok: false, reason: 'malformed' };
  const hash = hashCode(ctx.pepper, session.id, foldCode(opts.code));
  if (!safeEqual(hash, session.codeHash)) {
    await repo.increment({ id: session.id }, 'codeAttempts', 1);
    await recordEvent({ db: ctx.db, accountId: session.accountId, type: 'proofing_code_checked', details: { channel: session.codeChannel, outcome: 'wrong' } });
    return { ok: false, reason: session.codeAttempts + 1 >= MAX_CODE_ATTEMPTS ? 'too_many_attempts' : 'invalid' };
  }
  // The update only matches while the code is still there: a code works once.
  const res = await repo.createQueryBuilder().update()
    .set({ codeHash: null, codeExpiresAt: null, codeAttempts: 0, status: 'in_progress', updatedAt: clock.now() })
    .where('id = :id AND code_hash = :h', { id: session.id, h: hash }).execute();
  if (!res.affected) return { ok: false, reason: 'invalid' };
  await recordEvent({ db: ctx.db, accountId: session.accountId, type: 'proofing_code_checked', details: { channel: session.codeChannel, outcome: 'passed' } });
  Object.assign(session, { codeHash: null, codeExpiresAt: null, codeAttempts: 0, status: 'in_progress' });
  return { ok: true, state: await completeStep(ctx, session, 'possession', { possession: session.codeChannel === 'sms' ? 'phone' : 'letter' }) };
}
