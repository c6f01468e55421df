import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { BenchPasskey } from '../../bench/lib/benchPasskey.js';
import { agencyClients } from '../../bench/lib/benchSetup.js';
import { BenchTarget, SCOPE } from '../../bench/lib/BenchTarget.js';
import { countRoundTrips, type RoundTrips } from '../../bench/lib/countRoundTrips.js';
import { FLOWS, type FlowContext, type Iteration } from '../../bench/lib/flows.js';
import { seedAccounts } from '../../bench/lib/seedAccounts.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { SHARED_REDIS_URL, sharedRedisAnswers } from '../support/redisServer.js';

/**
 * Each flow of `npm run bench` (bench/lib/flows.ts), held to the SQL statements and Redis
 * commands it may send per operation, on the database alone and with Redis. A change that adds
 * a round trip fails here with what the flow sent; timing stays in the bench. Counts are
 * taken in the node (every statement TypeORM runs, every command the Redis client sends), so
 * they do not depend on what else uses the servers. Each flow runs three times and the lowest
 * count is compared: a once-a-second refresh of the client metadata cache is not the flow's.
 * The sign-in uses a new person every time, so it pays for everything a first visit to the
 * agency writes (the pairwise subject row).
 *
 * Lower a budget when a change removes a round trip; raise one only with the reason in the
 * commit and docs/performance.md.
 */
const REDIS_URL = SHARED_REDIS_URL;
const database = /^(mysql|mariadb):/.test(process.env['DATABASE_URL'] ?? '') ? 'mysql' : 'sqlite';

type Budget = { sql: number; redis: number };
/**
 * Per flow: on the database alone, and on the database + Redis. With Redis, every flow that
 * authenticates the agency with a client assertion still spends one statement on its replay
 * record: those stay in the database, so a Redis restarted empty cannot accept a replay.
 */
const BUDGETS: Record<string, { db: Budget; redis: Budget }> = {
  'discovery': { db: { sql: 0, redis: 0 }, redis: { sql: 0, redis: 0 } },
  'jwks': { db: { sql: 0, redis: 0 }, redis: { sql: 0, redis: 0 } },
  'full sign-in': { db: { sql: 36, redis: 0 }, redis: { sql: 12, redis: 25 } },
  'code redemption': { db: { sql: 8, redis: 0 }, redis: { sql: 3, redis: 5 } },
  'refresh': { db: { sql: 8, redis: 0 }, redis: { sql: 6, redis: 2 } },
  'introspection': { db: { sql: 6, redis: 0 }, redis: { sql: 3, redis: 4 } },
  'userinfo': { db: { sql: 4, redis: 0 }, redis: { sql: 2, redis: 2 } },
  'client credentials': { db: { sql: 3, redis: 0 }, redis: { sql: 1, redis: 2 } },
  'token exchange': { db: { sql: 6, redis: 0 }, redis: { sql: 4, redis: 2 } },
};

// Redis cases register only when a Redis server answers (as manyNodes' Redis run expects one).
const profiles: Array<[string, boolean]> = [[database, false], ...(await sharedRedisAnswers() ? [[`${database}+redis`, true] as [string, boolean]] : [])];

describe.each(profiles)('round trips per flow on %s', (_profile, withRedis) => {
  const prefix = `onedoor-test:${randomUUID()}:`;
  let server: TestServer;
  let t: BenchTarget;
  let sent: RoundTrips;
  let next = 0;
  const accounts = 40;
  let ctx: FlowContext;

  beforeAll(async () => {
    server = await startTestServer({ env: withRedis ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {} });
    const clientId = 'bench-agency';
    const audience = 'bench-api';
    const agency = await agencyClients({ clientId, audience });
    for (const c of agency.clients) await server.addClient(c);
    const passkey = new BenchPasskey({ origin: server.config.origin, rpId: server.config.rpId });
    await seedAccounts({ ds: server.ds, passkey, clientId, scope: SCOPE, from: 0, to: accounts });
    t = new BenchTarget({ url: server.listenUrl, kind: 'onedoor', sockets: 2, clientId, audience, key: agency.key, kid: agency.kid, passkey });
    await t.discover();
    sent = countRoundTrips({ ds: server.ds, redis: server.app.redis, keep: true });
    ctx = { t, pick: () => (next += 1) % accounts, concurrency: 1, ops: 4 };
  }, 60_000);

  afterAll(async () => {
    t?.close();
    if (withRedis) {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
    await server?.close();
  });

  /** The lowest count of three runs, with what that run sent. */
  async function measure(iteration: Iteration): Promise<{ sql: number; redis: number; statements: string[]; commands: string[] }> {
    await iteration(0); // first use: caches, lazy imports
    let best: { sql: number; redis: number; statements: string[]; commands: string[] } | undefined;
    for (let i = 0; i < 3; i += 1) {
      sent.reset();
      await iteration(0);
      const run = { sql: sent.statements, redis: sent.redisCommands, statements: [...sent.sent.statements], commands: [...sent.sent.redisCommands] };
      if (!best || run.sql + run.redis < best.sql + best.redis) best = run;
    }
    return best!;
  }

  test.each(FLOWS.map((f) => [f.name, f] as const))('when an agency and a browser run %s, then it stays within its budget of statements and Redis commands', async (name, flow) => {
    const budget = BUDGETS[name]![withRedis ? 'redis' : 'db'];
    const got = await measure(await flow.start(ctx));
    const problems: string[] = [];
    if (got.sql > budget.sql) problems.push(`${got.sql} SQL statements (budget ${budget.sql}):\n  ${got.statements.join('\n  ')}`);
    if (got.redis > budget.redis) problems.push(`${got.redis} Redis commands (budget ${budget.redis}): ${got.commands.join(' ')}`);
    if (process.env['ROUND_TRIPS_SHOW']) process.stdout.write(`${_profile} ${name}: sql ${got.sql} redis ${got.redis}\n${got.statements.join('\n')}\n${got.commands.join(' ')}\n`);
    if (problems.length) throw new Error(`${name} on ${withRedis ? 'the database + Redis' : 'the database alone'} sent ${problems.join('; ')}`);
  }, 30_000);
});
