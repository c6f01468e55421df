import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { DelegationEvent } from '../../entities/index.js';
import { clock } from '../shared/clock.js';

export type DelegationEventType = 'recorded' | 'joined' | 'invited' | 'requested' | 'accepted' | 'declined' | 'approved' | 'revoked' | 'expired' | 'reminded' | 'signed_in' | 'confirmed_by_phone' | 'token_exchange';

let lastAt = 0;

/** Appends one event to a delegation's history (who, what, when, where). No PII in details. */
export async function recordDelegationEvent(opts: { db: EntityManager; delegationId: string; actorId: string | null; type: DelegationEventType; clientId?: string | undefined; details?: Record<string, unknown> }): Promise<void> {
  lastAt = Math.max(clock.nowMs(), lastAt + 1);
  await opts.db.getRepository(DelegationEvent).insert({
    id: randomUUID(), delegationId: opts.delegationId, actorId: opts.actorId, type: opts.type,
    clientId: opts.clientId ?? null, details: JSON.stringify(opts.details ?? {}), at: new Date(lastAt),
  });
}
