import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/**
 * Counts what a node sends to its stores: every SQL statement TypeORM runs on `ds` (including
 * transaction statements; TypeORM hands each to its logger before it runs, whatever the
 * logging setting) and every command the Redis client sends (a MULTI block counts MULTI, each
 * command and EXEC; a script counts one EVALSHA). `sent` keeps what was sent since `reset()`,
 * so a test can say which round trips a flow added.
 */
export interface RoundTrips {
  readonly statements: number;
  readonly redisCommands: number;
  readonly sent: { statements: string[]; redisCommands: string[] };
  reset(): void;
}

export function countRoundTrips(opts: { ds: DataSource; redis?: Redis | undefined; keep?: boolean }): RoundTrips {
  let statements = 0;
  let redisCommands = 0;
  const sent = { statements: [] as string[], redisCommands: [] as string[] };
  const logger = opts.ds.logger;
  const logQuery = logger.logQuery.bind(logger);
  logger.logQuery = (query, parameters, runner) => {
    statements += 1;
    if (opts.keep) sent.statements.push(query.replace(/\s+/g, ' ').slice(0, 160));
    return logQuery(query, parameters, runner);
  };
  if (opts.redis) {
    const redis = opts.redis as Redis & { sendCommand(command: { name: string }, stream?: unknown): unknown };
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = (command, stream) => {
      redisCommands += 1;
      if (opts.keep) sent.redisCommands.push(command.name);
      return send(command, stream);
    };
  }
  return {
    get statements() { return statements; },
    get redisCommands() { return redisCommands; },
    sent,
    reset() {
      statements = 0;
      redisCommands = 0;
      sent.statements.length = 0;
      sent.redisCommands.length = 0;
    },
  };
}
