import { isDatabaseDown } from './isDatabaseDown.js';

/**
 * ioredis' ways of saying Redis cannot be reached now: the command waited out its timeout,
 * ran out of reconnection attempts, or found the connection closed or not writable.
 */
const REDIS_DOWN = /^(?:Command timed out|Connection is closed\.?|Stream isn't writeable|Reached the max retries per request limit)/;
/**
 * Redis' own replies for "not now": loading its data after a restart, a replica during a
 * failover (read-only, or its primary down), busy with a script, out of memory under
 * `noeviction`, or asked to try again.
 */
const REDIS_NOT_NOW = /^(?:LOADING|READONLY|MASTERDOWN|BUSY|TRYAGAIN|OOM|CLUSTERDOWN)\b/;

/**
 * Is the thrown value a "cannot reach the store" error — the database's (isDatabaseDown) or
 * Redis' (REDIS_URL)? Either answers 503 (`temporarily_unavailable` on protocol endpoints) and
 * heals by itself when the store returns.
 */
export function isStoreDown(err: unknown): boolean {
  if (isDatabaseDown(err)) return true;
  const e = err as { name?: unknown; message?: unknown; cause?: unknown } | undefined;
  if (e?.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e?.message === 'string' && REDIS_DOWN.test(e.message)) return true;
  if (e?.name === 'ReplyError' && typeof e.message === 'string' && REDIS_NOT_NOW.test(e.message)) return true;
  return e?.cause !== undefined && e.cause !== err && isStoreDown(e.cause);
}
