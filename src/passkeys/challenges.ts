import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { WebAuthnChallenge } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { entityColumns, hydrateEntity, isMysql, sqlDialect, writeSqlDate } from '../shared/sqlValues.js';

export const CHALLENGE_TTL_SECONDS = 5 * 60;

/**
 * Where challenges live instead of the database when Redis is configured: one command to store
 * (replacing the earlier one for the same binding and purpose), one to take (GETDEL: whoever
 * gets it owns it). See redisChallengeStore.ts.
 */
export interface ChallengeStore {
  put(key: string, value: string, ttlSeconds: number): Promise<void>;
  take(key: string): Promise<string | null>;
}

export interface RelyingParty {
  rpId: string;
  rpName: string;
  origin: string;
  /** Redis when configured; without it challenges are rows of `webauthn_challenges`. */
  challenges?: ChallengeStore | undefined;
}

const storeKey = (bindingId: string, purpose: string) => `${purpose}:${bindingId}`;

/** Stores the one live challenge for (binding, purpose), replacing any earlier one. */
export async function storeChallenge(opts: { db: EntityManager; store?: ChallengeStore | undefined; bindingId: string; purpose: WebAuthnChallenge['purpose']; challenge: string; accountId: string | null }): Promise<void> {
  const expiresAt = clock.nowMs() + CHALLENGE_TTL_SECONDS * 1000;
  if (opts.store) {
    await opts.store.put(storeKey(opts.bindingId, opts.purpose), JSON.stringify({ challenge: opts.challenge, accountId: opts.accountId, expiresAt }), CHALLENGE_TTL_SECONDS);
    return;
  }
  // One row per (binding, purpose), enforced by a unique index: a new challenge replaces the old.
  // Plain SQL: every sign-in stores one, and the query builder costs more than the statement.
  const { q } = sqlDialect(opts.db);
  const mysql = isMysql(opts.db);
  const replaced = ['id', 'challenge', 'account_id', 'expires_at'];
  const sql = `INSERT INTO ${q('webauthn_challenges')} (${['id', 'binding_id', 'purpose', 'challenge', 'account_id', 'expires_at'].map(q).join(', ')}) VALUES (?, ?, ?, ?, ?, ?) `
    + (mysql
      ? `ON DUPLICATE KEY UPDATE ${replaced.map((c) => `${q(c)} = VALUES(${q(c)})`).join(', ')}`
      : `ON CONFLICT (${q('binding_id')}, ${q('purpose')}) DO UPDATE SET ${replaced.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`);
  await opts.db.query(sql, [randomUUID(), opts.bindingId, opts.purpose, opts.challenge, opts.accountId, writeSqlDate(new Date(expiresAt))]);
}

/**
 * Takes the challenge out of the store: whoever deletes the row owns it, so a challenge is used
 * at most once even under concurrent submissions, and a failed verification burns it too.
 */
export async function takeChallenge(opts: { db: EntityManager; store?: ChallengeStore | undefined; bindingId: string; purpose: WebAuthnChallenge['purpose'] }): Promise<WebAuthnChallenge | undefined> {
  if (opts.store) {
    const raw = await opts.store.take(storeKey(opts.bindingId, opts.purpose));
    if (!raw) return undefined;
    const v = JSON.parse(raw) as { challenge: string; accountId: string | null; expiresAt: number };
    // The clock the domain reads decides expiry, as for a row (Redis's TTL only clears it away).
    if (v.expiresAt <= clock.nowMs()) return undefined;
    return Object.assign(new WebAuthnChallenge(), { id: randomUUID(), bindingId: opts.bindingId, purpose: opts.purpose, challenge: v.challenge, accountId: v.accountId, expiresAt: new Date(v.expiresAt) });
  }
  const { q } = sqlDialect(opts.db);
  const found = ((await opts.db.query(
    `SELECT ${entityColumns(opts.db, WebAuthnChallenge, 'c')} FROM ${q('webauthn_challenges')} ${q('c')} WHERE ${q('c')}.${q('binding_id')} = ? AND ${q('c')}.${q('purpose')} = ?`,
    [opts.bindingId, opts.purpose],
  )) as Array<Record<string, unknown>>)[0];
  if (!found) return undefined;
  const row = hydrateEntity(opts.db, WebAuthnChallenge, found, 'c');
  const res = await opts.db.getRepository(WebAuthnChallenge).delete({ id: row.id });
  if (!res.affected) return undefined;
  if (row.expiresAt.getTime() <= clock.nowMs()) return undefined;
  return row;
}
