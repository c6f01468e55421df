import { Redis } from 'ioredis';
import { logger } from './logger.js';

/** How long one Redis command may take before it fails (and the request answers 503). */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

/**
 * The node's Redis connection (REDIS_URL). A Redis outage must show as a quick 503, never a
 * hung request: a command fails after `REDIS_COMMAND_TIMEOUT_MS` (a silently dropped or frozen
 * connection would otherwise wait for ever), a connection attempt after as long, and a command
 * issued while disconnected after one reconnection attempt instead of queueing. Reconnection
 * goes on in the background (at most every second), so the node recovers by itself when Redis
 * returns. Connection errors are logged by code only (the URL can hold a password).
 */
export function connectRedis(opts: { url: string; keyPrefix: string }): Redis {
  const redis = new Redis(opts.url, {
    keyPrefix: opts.keyPrefix,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    enableAutoPipelining: true,
  });
  redis.on('error', (err: Error & { code?: string }) => { logger.warn({ error: err.code ?? err.name }, 'redis connection error'); });
  return redis;
}
