import type { Redis } from 'ioredis';
import type { DataSource, EntitySubscriberInterface, EntityManager, QueryRunner } from 'typeorm';
import { logger } from './logger.js';

/**
 * A Redis copy of each grant (an agency's consent), which oidc-provider reads on every token
 * request; the grant itself stays in the database. A copy lives at most COPY_SECONDS (never past
 * the grant's expiry). Revoking writes a tombstone in place of the copy (before the delete, and
 * again after the commit): a reader that read the row just before the delete cannot put a copy
 * back, because copies are written only where nothing is (SET NX). If Redis cannot be reached, a
 * revocation fails and its transaction rolls back: a grant is never gone from the database while
 * a copy of it may still answer. Every revocation goes through src/accounts/deleteGrants.ts.
 */
export const COPY_SECONDS = 5 * 60;
const REVOKED = 'revoked';

export interface GrantCache {
  /** The copy's payload JSON and expiry, or undefined (none, or revoked lately). */
  get(id: string): Promise<{ payload: string; expiresAt: number | null } | undefined>;
  /** Puts a copy read from the database, unless one or a tombstone is there. */
  fill(id: string, payload: string, expiresAt: number | null): Promise<void>;
  /** After the grant was written (consent changed): the copy becomes what was written. */
  replace(id: string, payload: string, expiresAt: number | null): Promise<void>;
  /** Tombstones: no copy of these grants answers for COPY_SECONDS. */
  revoke(ids: readonly string[]): Promise<void>;
}

const ttlFor = (expiresAt: number | null) => Math.max(1, Math.min(COPY_SECONDS, expiresAt ? Math.floor((expiresAt - Date.now()) / 1000) : COPY_SECONDS));

export function redisGrantCache(redis: Redis): GrantCache {
  const key = (id: string) => `grant-copy:${id}`;
  return {
    async get(id) {
      const v = await redis.get(key(id));
      if (!v || v === REVOKED) return undefined;
      const copy = JSON.parse(v) as { p: string; e: number | null };
      if (copy.e !== null && copy.e <= Date.now()) return undefined;
      return { payload: copy.p, expiresAt: copy.e };
    },
    async fill(id, payload, expiresAt) {
      if (expiresAt !== null && expiresAt <= Date.now()) return;
      await redis.set(key(id), JSON.stringify({ p: payload, e: expiresAt }), 'EX', ttlFor(expiresAt), 'NX');
    },
    async replace(id, payload, expiresAt) {
      await redis.set(key(id), JSON.stringify({ p: payload, e: expiresAt }), 'EX', ttlFor(expiresAt));
    },
    async revoke(ids) {
      if (!ids.length) return;
      // One MSET-like command per call is not possible with per-key TTLs: a script sets them all.
      await redis.eval(`for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2]) end return #KEYS`, ids.length, ...ids.map(key), REVOKED, String(COPY_SECONDS));
    },
  };
}

const caches = new WeakMap<DataSource, GrantCache>();
const afterCommit = new WeakMap<QueryRunner, Array<() => Promise<void>>>();

/** The grant copy for the database `ds` (set by createApp or the CLI when REDIS_URL is set). */
export function grantCacheOf(ds: DataSource): GrantCache | undefined {
  return caches.get(ds);
}

export function useGrantCache(ds: DataSource, cache: GrantCache | undefined): void {
  if (!cache) {
    caches.delete(ds);
    return;
  }
  if (!caches.has(ds)) {
    const subscriber: EntitySubscriberInterface = {
      async afterTransactionCommit(event) {
        const todo = afterCommit.get(event.queryRunner);
        afterCommit.delete(event.queryRunner);
        // The commit is done: a failure here must not report the revocation as failed.
        for (const run of todo ?? []) await run().catch((err: Error) => { logger.warn({ error: err.name }, 'grant copy: tombstone after commit failed (the first one stands)'); });
      },
      afterTransactionRollback(event) { afterCommit.delete(event.queryRunner); },
    };
    ds.subscribers.push(subscriber);
  }
  caches.set(ds, cache);
}

/** Runs `run` once `db`'s transaction has committed (at once outside a transaction). */
export async function whenCommitted(db: EntityManager, run: () => Promise<void>): Promise<void> {
  const qr = db.queryRunner;
  if (qr?.isTransactionActive) {
    const list = afterCommit.get(qr) ?? [];
    list.push(run);
    afterCommit.set(qr, list);
    return;
  }
  await run();
}
