import { Redis } from 'ioredis';
import { logger } from './logger.js';

/**
 * The node's Redis connection (REDIS_URL). Commands fail after a couple of retries instead of
 * queueing for long, so a Redis outage shows as errors, not hung requests; connection errors are
 * logged by code only (the URL can hold a password). Auto-pipelining: commands issued in the
 * same event-loop turn (concurrent requests) go out in one write, not one syscall each.
 */
export function connectRedis(opts: { url: string; keyPrefix: string }): Redis {
  const redis = new Redis(opts.url, { keyPrefix: opts.keyPrefix, maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', (err: Error & { code?: string }) => { logger.warn({ error: err.code ?? err.name }, 'redis connection error'); });
  return redis;
}
