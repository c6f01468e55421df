import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { WebAuthnChallenge } from '../../entities/index.js';
import { clock } from '../shared/clock.js';

export const CHALLENGE_TTL_SECONDS = 5 * 60;

export interface RelyingParty {
  rpId: string;
  rpName: string;
  origin: string;
}

/** Stores the one live challenge for (binding, purpose), replacing any earlier one. */
export async function storeChallenge(opts: { db: EntityManager; bindingId: string; purpose: WebAuthnChallenge['purpose']; challenge: string; accountId: string | null }): Promise<void> {
  // One row per (binding, purpose), enforced by a unique index: a new challenge replaces the old.
  await opts.db.getRepository(WebAuthnChallenge).upsert({
    id: randomUUID(), bindingId: opts.bindingId, purpose: opts.purpose, challenge: opts.challenge,
    accountId: opts.accountId, expiresAt: new Date(clock.nowMs() + CHALLENGE_TTL_SECONDS * 1000),
  }, ['bindingId', 'purpose']);
}

/**
 * Takes the challenge out of the store: whoever deletes the row owns it, so a challenge is used
 * at most once even under concurrent submissions, and a failed verification burns it too.
 */
export async function takeChallenge(opts: { db: EntityManager; bindingId: string; purpose: WebAuthnChallenge['purpose'] }): Promise<WebAuthnChallenge | undefined> {
  const repo = opts.db.getRepository(WebAuthnChallenge);
  const row = await repo.findOneBy({ bindingId: opts.bindingId, purpose: opts.purpose });
  if (!row) return undefined;
  const res = await repo.delete({ id: row.id });
  if (!res.affected) return undefined;
  if (row.expiresAt.getTime() <= clock.nowMs()) return undefined;
  return row;
}
