import type { Context, Next } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequests } from '../../shared/errors.js';

export interface Limiter {
  consume(key: string, points?: number): Promise<void>;
}

/** A fixed-window limiter; throws TooManyRequests (429 with Retry-After) when spent. */
export function createLimiter(opts: { keyPrefix: string; points: number; durationSeconds: number }): Limiter {
  const limiter = new RateLimiterMemory({ keyPrefix: opts.keyPrefix, points: opts.points, duration: opts.durationSeconds });
  return {
    async consume(key, points = 1) {
      try {
        await limiter.consume(key, points);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw new TooManyRequests(err.msBeforeNext / 1000);
        throw err;
      }
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
