import type { Redis } from 'ioredis';
import type { Context, Next } from 'koa';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { TooManyRequests } from '../../shared/errors.js';
import { hmac } from '../../shared/ids.js';
import { isStoreDown } from '../../shared/isStoreDown.js';
import { consumeDatabasePoints } from './databaseRateLimit.js';

/** What counting one try says: go ahead, or wait this long. */
export type LimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface Limiter {
  /** Counts `points` against `key` and says whether it was still within the limit. */
  take(key: string, points?: number): Promise<LimitResult>;
  /** The same, but a spent limit throws TooManyRequests (429 with Retry-After). */
  consume(key: string, points?: number): Promise<void>;
}

/**
 * Where the counters live: every node must see the same counts, so never process memory —
 * Redis when configured, otherwise the database all nodes share. `keySecret` (the pepper) keys
 * the HMAC that stands in for each counted address or account id.
 */
export type RateLimitStore = ({ redis: Redis; ds?: undefined } | { ds: DataSource; redis?: undefined }) & { keySecret: string };

/**
 * The digest stored in place of a counted key (an IP address, an email address, an account id).
 * A keyed hash, not a plain one: IPv4 addresses and known email addresses are few enough to hash
 * them all, so a plain SHA-256 in a database or Redis dump would say who was counted; without the
 * pepper the digests say nothing. The limiter's prefix is part of the input, so one address has
 * unrelated digests under different limits.
 */
export function limitKeyDigest(secret: string, keyPrefix: string, key: string): string {
  return hmac(secret, `rate-limit:${keyPrefix}:${key}`);
}

/** A fixed-window limiter: a window starts with the first point and is not extended by later ones. */
export function createLimiter(opts: { store: RateLimitStore; keyPrefix: string; points: number; durationSeconds: number }): Limiter {
  const { store, keyPrefix, points, durationSeconds } = opts;
  const redisLimiter = store.redis ? new RateLimiterRedis({ storeClient: store.redis, keyPrefix: `rl:${keyPrefix}`, points, duration: durationSeconds }) : undefined;
  const digest = (key: string) => limitKeyDigest(store.keySecret, keyPrefix, key);
  async function take(key: string, n = 1): Promise<LimitResult> {
    if (redisLimiter) {
      try {
        await redisLimiter.consume(digest(key), n);
        return { ok: true };
      } catch (err) {
        if (err instanceof RateLimiterRes) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
        throw err;
      }
    }
    const res = await consumeDatabasePoints({ ds: store.ds!, key: `${keyPrefix}:${digest(key)}`, points: n, durationSeconds, limit: points });
    return res.consumed > points ? { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) } : { ok: true };
  }
  return {
    take,
    async consume(key, n = 1) {
      const res = await take(key, n);
      if (!res.ok) throw new TooManyRequests(res.retryAfterSeconds);
    },
  };
}

/** Limits unsafe requests per client IP on a group of routes. */
export function limitPerIp(limiter: Limiter) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method === 'POST') await limiter.consume(ctx.ip);
    await next();
  };
}

/**
 * Limits the provider's back-channel endpoints (token, introspection, revocation, PAR, CIBA) per
 * client IP. Their callers are agency servers, so the answer is always OAuth-style JSON.
 */
export function limitProtocolEndpoints(limiter: Limiter) {
  const paths = /^\/(?:token(?:\/introspection|\/revocation)?|request|backchannel|representations)$/;
  return async (ctx: Context, next: Next) => {
    const registration = ctx.method === 'DELETE' && /^\/representations\/[^/]+$/.test(ctx.path);
    if (!registration && (ctx.method !== 'POST' || !paths.test(ctx.path))) return next();
    try {
      await limiter.consume(ctx.ip);
    } catch (err) {
      // The counters live in the database (or Redis): when it is down, answer as the
      // provider's own endpoints do then (see observeProvider), in OAuth's terms.
      if (isStoreDown(err)) {
        ctx.status = 503;
        ctx.set('retry-after', '5');
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: 'temporarily_unavailable', error_description: 'OneDoor is temporarily unavailable; try again shortly' };
        return;
      }
      if (!(err instanceof TooManyRequests)) throw err;
      ctx.status = 429;
      ctx.set('retry-after', String(err.retryAfterSeconds));
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'too_many_requests', error_description: `too many requests; retry after ${err.retryAfterSeconds} seconds` };
      return;
    }
    return next();
  };
}
