import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Context, Next } from 'koa';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { TooManyRequests } from '../../shared/errors.js';
import { isDatabaseDown } from '../../shared/isDatabaseDown.js';
import { consumeDatabasePoints } from './databaseRateLimit.js';

export interface Limiter {
  consume(key: string, points?: number): Promise<void>;
}

/**
 * Where the counters live: every node must see the same counts, so never process memory —
 * Redis when configured, otherwise the database all nodes share.
 */
export type RateLimitStore = { redis: Redis; ds?: undefined } | { ds: DataSource; redis?: undefined };

/** A fixed-window limiter; throws TooManyRequests (429 with Retry-After) when spent. */
export function createLimiter(opts: { store: RateLimitStore; keyPrefix: string; points: number; durationSeconds: number }): Limiter {
  const { store, keyPrefix, points, durationSeconds } = opts;
  const redisLimiter = store.redis ? new RateLimiterRedis({ storeClient: store.redis, keyPrefix: `rl:${keyPrefix}`, points, duration: durationSeconds }) : undefined;
  // Keys are addresses and account ids: stored hashed, so the counters hold no personal data.
  const hashed = (key: string) => createHash('sha256').update(key).digest('base64url');
  return {
    async consume(key, n = 1) {
      if (redisLimiter) {
        try {
          await redisLimiter.consume(hashed(key), n);
        } catch (err) {
          if (err instanceof RateLimiterRes) throw new TooManyRequests(err.msBeforeNext / 1000);
          throw err;
        }
        return;
      }
      const res = await consumeDatabasePoints({ ds: store.ds!, key: `${keyPrefix}:${hashed(key)}`, points: n, durationSeconds, limit: points });
      if (res.consumed > points) throw new TooManyRequests(res.msBeforeNext / 1000);
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
 * Limits the provider's back-channel endpoints (token, introspection, revocation, PAR) per
 * client IP. Their callers are agency servers, so the answer is always OAuth-style JSON.
 */
export function limitProtocolEndpoints(limiter: Limiter) {
  const paths = /^\/(?:token(?:\/introspection|\/revocation)?|request)$/;
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || !paths.test(ctx.path)) return next();
    try {
      await limiter.consume(ctx.ip);
    } catch (err) {
      // The counters live in the database (or Redis): when it is down, answer as the
      // provider's own endpoints do then (see observeProvider), in OAuth's terms.
      if (isDatabaseDown(err)) {
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
