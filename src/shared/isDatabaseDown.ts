/**
 * Is the thrown value one of the driver's "cannot reach the database" errors (directly or
 * wrapped by TypeORM)? Those answer 503 and heal by themselves when the database returns.
 */
const DOWN_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
  'SQLITE_BUSY',
]);

export function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown }; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.driverError?.code ?? e?.cause?.code;
  if (typeof code === 'string' && DOWN_CODES.has(code)) return true;
  // mysql2 refuses queries on a connection it already saw fail, and on a full wait queue, without a code.
  return /Can't add new command when connection is in closed state|Connection lost|connect ETIMEDOUT|Pool is closed|Queue limit reached/i.test(String((err as Error)?.message ?? ''));
}
