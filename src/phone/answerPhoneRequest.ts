import { type EntityManager, MoreThan } from 'typeorm';
import { PhoneRequest } from '../../entities/index.js';
import { type AuditEventType, recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';
import type { PhoneAnswer } from './phoneRules.js';

export type AnswerPhoneRequestResult =
  | { ok: true; request: PhoneRequest }
  | { ok: false; reason: 'not_found' | 'closed' };

/** What each answer puts in the person's history. */
const HISTORY: Record<PhoneAnswer, AuditEventType> = {
  approved: 'phone_confirmed', denied: 'phone_denied', not_me: 'phone_not_me', unmet: 'phone_unmet',
};

/**
 * The person's answer to one of their open requests, and its line in their history. One step
 * that only an open (pending, unexpired) request of this very person passes, so a request is
 * answered once, whatever two devices or two clicks send. Someone else's request is `not_found`,
 * as a request that does not exist. Call it in a transaction.
 */
export async function answerPhoneRequest(opts: { db: EntityManager; requestId: string; accountId: string; answer: PhoneAnswer; delegationId?: string | undefined }): Promise<AnswerPhoneRequestResult> {
  const { db, requestId, accountId, answer } = opts;
  const repo = db.getRepository(PhoneRequest);
  const now = clock.now();
  const res = await repo.update(
    { id: requestId, accountId, status: 'pending', expiresAt: MoreThan(now) },
    { status: answer, answeredAt: now, delegationId: opts.delegationId ?? null },
  );
  const request = await repo.findOneBy({ id: requestId });
  if (!request || request.accountId !== accountId) return { ok: false, reason: 'not_found' };
  if (!res.affected) return { ok: false, reason: 'closed' };
  const type = answer === 'approved' && opts.delegationId ? 'phone_confirmed_for' : HISTORY[answer];
  await recordEvent({ db, accountId, type, clientId: request.clientId });
  return { ok: true, request };
}
