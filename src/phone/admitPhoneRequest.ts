import { randomUUID } from 'node:crypto';
import { type DataSource, type EntityManager, MoreThan } from 'typeorm';
import { PhoneRequest } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { PHONE_RULES } from './phoneRules.js';

export type AdmitPhoneRequestResult =
  | { ok: true; request: PhoneRequest }
  | { ok: false; reason: 'blocked'; until: Date }
  | { ok: false; reason: 'too_many_open' };

export interface PhoneRequestDetails {
  authReqId: string;
  clientId: string;
  /** Null when the address asked for has no account: nobody will see or answer the request. */
  accountId: string | null;
  personKey: string;
  expiresInSeconds: number;
  /** What the approval page shows; only kept for a person who can answer. */
  shown?: { bindingMessage: string; scope: string; acrValues: string | undefined; claims: string[]; verifiedWithin: number | undefined } | undefined;
}

/** The "I did not call" answer that still blocks this agency's requests to this person, if any. */
export async function blockedUntil(opts: { db: DataSource | EntityManager; accountId: string; clientId: string }): Promise<Date | undefined> {
  const now = clock.now();
  const last = await opts.db.getRepository(PhoneRequest).findOne({
    where: { accountId: opts.accountId, clientId: opts.clientId, status: 'not_me', answeredAt: MoreThan(new Date(now.getTime() - PHONE_RULES.blockSeconds * 1000)) },
    order: { answeredAt: 'DESC' },
    select: { answeredAt: true },
  });
  return last?.answeredAt ? new Date(last.answeredAt.getTime() + PHONE_RULES.blockSeconds * 1000) : undefined;
}

/**
 * Records a phone request, unless the person said "I did not call" to this agency within a day,
 * or already has PHONE_RULES.maxOpenPerPerson requests open. The open count is taken after the
 * request is written, so that of requests racing for the last place none gets past the limit
 * (all may be refused). A request for an address without an account is counted the same way.
 */
export async function admitPhoneRequest(opts: { db: DataSource | EntityManager; details: PhoneRequestDetails }): Promise<AdmitPhoneRequestResult> {
  const { db, details } = opts;
  // Asked for every request, an address without an account too (it matches nothing): both take the same steps.
  const until = await blockedUntil({ db, accountId: details.accountId ?? '', clientId: details.clientId });
  if (until) return { ok: false, reason: 'blocked', until };
  const now = clock.now();
  const repo = db.getRepository(PhoneRequest);
  const request: PhoneRequest = {
    id: randomUUID(), authReqId: details.authReqId, clientId: details.clientId, accountId: details.accountId, personKey: details.personKey,
    bindingMessage: details.shown?.bindingMessage ?? null, scope: details.shown?.scope ?? null, acrValues: details.shown?.acrValues ?? null,
    claims: details.shown ? JSON.stringify(details.shown.claims) : null, verifiedWithin: details.shown?.verifiedWithin ?? null,
    status: 'pending', delegationId: null, createdAt: now, expiresAt: new Date(now.getTime() + details.expiresInSeconds * 1000), answeredAt: null,
  };
  await repo.insert(request);
  const open = await repo.countBy({ personKey: details.personKey, status: 'pending', expiresAt: MoreThan(now) });
  if (open > PHONE_RULES.maxOpenPerPerson) {
    await repo.delete({ id: request.id });
    return { ok: false, reason: 'too_many_open' };
  }
  return { ok: true, request };
}
