import type { EntityManager } from 'typeorm';
import { PhoneRequest } from '../../entities/index.js';
import { clock } from '../shared/clock.js';

export type FindPhoneRequestResult =
  | { ok: true; request: PhoneRequest; open: boolean }
  | { ok: false; reason: 'not_found' };

/** One of this person's phone requests, and whether it is still open. Anyone else's is `not_found`. */
export async function findPhoneRequest(opts: { db: EntityManager; requestId: string; accountId: string }): Promise<FindPhoneRequestResult> {
  const request = await opts.db.getRepository(PhoneRequest).findOneBy({ id: opts.requestId });
  if (!request || request.accountId !== opts.accountId) return { ok: false, reason: 'not_found' };
  return { ok: true, request, open: request.status === 'pending' && request.expiresAt.getTime() > clock.nowMs() };
}
