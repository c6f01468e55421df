import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { parseDatabaseUrl } from '../src/config/loadConfig.js';
import { projectRoot } from '../src/shared/paths.js';
import { writeSqlDate } from '../src/shared/sqlValues.js';
import { createDataSource } from '../ormconfig.js';
import { BenchPasskey } from './lib/benchPasskey.js';
import { BenchTarget, SCOPE } from './lib/BenchTarget.js';
import { agencyClients, AUDIENCE, benchDatabase, CLIENT_ID, serverJwks } from './lib/benchSetup.js';
import { Redis } from 'ioredis';
import { compareFlows } from './lib/buildReport.js';
import { sizeBufferPool } from './lib/bufferPool.js';
import { type Flow, type FlowContext, FLOWS, fullSignIn, SCALE_FLOWS } from './lib/flows.js';
import { measureCeiling } from './lib/measureCeiling.js';
import { type BenchReport, toMarkdown } from './lib/report.js';
import { type FlowResult, type Profile, runLoad } from './lib/runLoad.js';
import { serviceProbe, type ServiceProbe } from './lib/serviceStats.js';
import { seedAccounts } from './lib/seedAccounts.js';
import { waitForQuiet } from './lib/waitForQuiet.js';
import { runSoak } from './soak.js';
import { freePort, type ServerProcess, startServerProcess } from './lib/ServerProcess.js';

/**
 * `npm run bench`: OneDoor's cost per operation — its own CPU, the database and cache servers'
 * CPU, statements and Redis commands — side by side with bare oidc-provider and the crypto
 * ceiling, on each profile (database alone, database + Redis), at 1k and 1M seeded accounts,
 * with memory after 100k sessions. Prints a table and writes
 * bench/results/<date>-<database>.{json,md} (`--update-docs`: and docs/performance.md).
 * `--smoke` runs every flow for a moment (the test suite does, so the bench cannot rot);
 * figures from it mean nothing.
 */
const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    'server-warmup': { type: 'string' },
    concurrency: { type: 'string' },
    accounts: { type: 'string' },
    sessions: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'string' },
    only: { type: 'string' },
    profiles: { type: 'string' },
    repeat: { type: 'string' },
    'flows-only': { type: 'boolean', default: false },
    'update-docs': { type: 'boolean', default: false },
    soak: { type: 'string' },
  },
});

function positiveInt(name: string, value: string | undefined, def: number): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`bench: --${name} must be a positive number\n`);
    process.exit(2);
  }
  return n;
}

const smoke = args.smoke!;
const S = {
  warmupSeconds: positiveInt('warmup', args.warmup, smoke ? 0.1 : 2),
  // Once per server, before anything is measured: sign-ins, codes and userinfo until V8 has
  // optimized the hot paths. A fresh Node process runs the sign-in at a fraction of its
  // steady-state speed for its first seconds, and a server in production is a warm one.
  serverWarmupSeconds: positiveInt('server-warmup', args['server-warmup'], smoke ? 0.1 : 15),
  durationSeconds: positiveInt('duration', args.duration, smoke ? 0.3 : 10),
  concurrency: Math.round(positiveInt('concurrency', args.concurrency, smoke ? 4 : 16)),
  accountsSmall: smoke ? 50 : 1000,
  accountsLarge: Math.round(positiveInt('accounts', args.accounts, smoke ? 500 : 1_000_000)),
  sessions: Math.round(positiveInt('sessions', args.sessions, smoke ? 60 : 100_000)),
  ceilingMs: smoke ? 30 : 1000,
  /** Each scale flow runs this many times at each account count (p99 moves between runs). */
  repeat: Math.round(positiveInt('repeat', args.repeat, smoke ? 1 : 3)),
};
const flowsOnly = args['flows-only']!;

/**
 * OneDoor's profiles, measured in this order beside bare oidc-provider: the database
 * DATABASE_URL names (`sqlite`, the default, or `mysql`) alone, then with Redis when REDIS_URL
 * is set — the production profile, which the scale and memory runs use. `--profiles` picks.
 */
const dbKind = /^(mysql|mariadb):\/\//.test(process.env['DATABASE_URL'] ?? '') ? 'mysql' : 'sqlite';
const redisUrl = process.env['REDIS_URL'];
const profiles: Profile[] = (() => {
  const possible = [dbKind, `${dbKind}+redis`] as Profile[];
  const asked = args.profiles?.split(',').map((p) => p.trim()).filter(Boolean) ?? (redisUrl ? possible : [dbKind]);
  for (const p of asked) {
    if (!possible.includes(p as Profile)) { process.stderr.write(`bench: --profiles: ${p} is not one of ${possible.join(', ')} (DATABASE_URL decides the database)\n`); process.exit(2); }
    if (p.endsWith('+redis') && !redisUrl) { process.stderr.write(`bench: --profiles: ${p} needs REDIS_URL\n`); process.exit(2); }
  }
  if (!asked.length) { process.stderr.write('bench: --profiles names no profile\n'); process.exit(2); }
  return asked as Profile[];
})();
/** `--profile DIR`: a .cpuprofile of the server per flow (measured window only). */
const profileDir = args.profile ? path.resolve(args.profile) : undefined;
if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
/** `--only "full sign-in,userinfo"`: run just these flows (for profiling one of them). */
const onlyFlows = args.only?.split(',').map((f) => f.trim()).filter(Boolean);
const outDir = path.resolve(args.out ?? path.join(projectRoot, 'bench', 'results'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-bench-'));
const say = (m: string) => process.stdout.write(`${m}\n`);


const pick = (n: number) => Math.floor(Math.random() * n);

/** Unmeasured: the full sign-in loop (every page, the passkey, code, token, userinfo) for a while. */
async function warmServer(t: BenchTarget, accounts: number): Promise<void> {
  const stopAt = Date.now() + S.serverWarmupSeconds * 1000;
  await Promise.all(Array.from({ length: S.concurrency }, async () => {
    while (Date.now() < stopAt) await fullSignIn(t, pick(accounts));
  }));
}

async function runFlows(opts: { t: BenchTarget; server: ServerProcess; target: 'onedoor' | 'bare'; profile: Profile; probe?: ServiceProbe; accounts: number; only?: string[] }): Promise<FlowResult[]> {
  const { t, server, target, accounts } = opts;
  const results: FlowResult[] = [];
  const want = (f: Flow) => (!opts.only || opts.only.includes(f.name)) && (!onlyFlows || onlyFlows.includes(f.name)) && (target === 'onedoor' || !f.onedoorOnly);
  // Enough pre-made codes for the warm-up and the measured window at a generous rate; codes live 60 s.
  const ctx: FlowContext = { t, pick: () => pick(accounts), concurrency: S.concurrency, ops: smoke ? 100 : Math.min(20_000, Math.round((S.warmupSeconds + S.durationSeconds) * 1200)) };
  for (const flow of FLOWS.filter(want)) {
    const iteration = await flow.start(ctx);
    const r = await runLoad({
      flow: flow.name, target, profile: opts.profile, server, probe: opts.probe, concurrency: S.concurrency, warmupMs: S.warmupSeconds * 1000, durationMs: S.durationSeconds * 1000, iteration,
      ...(target === 'onedoor' ? { accounts } : {}),
      ...(profileDir ? { profileFile: path.join(profileDir, `${opts.profile}-${accounts}-${flow.name.replace(/\W+/g, '-')}.cpuprofile`) } : {}),
    });
    results.push(r);
    say(`  ${(target === 'bare' ? 'bare' : opts.profile).padEnd(12)} ${flow.name.padEnd(19)} ${String(r.rps).padStart(8)}/s  p99 ${String(r.p99Ms).padStart(7)} ms  cpu ${String(r.cpuMsPerOp).padStart(6)} + ${String(r.serviceCpuMsPerOp).padStart(6)} ms/op  per core ${String(r.perCore).padStart(6)}/s (${String(r.totalPerCore).padStart(6)}/s total)  sql ${r.statementsPerOp} redis ${r.redisCommandsPerOp}${r.errors ? `  ERRORS ${r.errors}: ${r.firstError}` : ''}`);
  }
  return results;
}

function versionOf(pkg: string): string {
  return (JSON.parse(fs.readFileSync(path.join(projectRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

const mib = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

/** Splices the Markdown between the results markers of docs/performance.md. */
function updateDocs(md: string): void {
  const file = path.join(projectRoot, 'docs', 'performance.md');
  const doc = fs.readFileSync(file, 'utf8');
  const open = '<!-- bench:results -->';
  const close = '<!-- /bench:results -->';
  const a = doc.indexOf(open);
  const b = doc.indexOf(close);
  if (a === -1 || b < a) throw new Error(`docs/performance.md has no ${open} … ${close} block`);
  const block = `${open}\n\nThe latest full run (\`bench/results/\` keeps each run's JSON and Markdown):\n\n${md}\n`;
  fs.writeFileSync(file, doc.slice(0, a) + block + doc.slice(b));
}

/** Deletes the keys a bench server wrote under its prefix. */
async function dropRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function main(): Promise<number> {
  if (args.soak !== undefined) return runSoak({ seconds: positiveInt('soak', args.soak, 60), concurrency: S.concurrency, smoke, work, outDir, say });
  fs.mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  say(`OneDoor bench${smoke ? ' (smoke)' : ''}: ${S.durationSeconds} s per flow after ${S.warmupSeconds} s warm-up, concurrency ${S.concurrency}; OneDoor profiles ${profiles.join(', ')}`);

  say('crypto ceiling (one core)…');
  const ceiling = await measureCeiling(S.ceilingMs);
  for (const c of ceiling) say(`  ${c.operation.padEnd(30)} ${c.perSecond}/s`);

  const agency = await agencyClients({ clientId: CLIENT_ID, audience: AUDIENCE });
  const flows: FlowResult[] = [];

  say('bare oidc-provider…');
  const barePort = await freePort();
  const bare = await startServerProcess({
    entry: 'bare', logFile: path.join(work, 'bare.log'),
    // oidc-provider alone has no token exchange: that grant is OneDoor's (registerGrantType).
    env: { BENCH_PORT: String(barePort), BENCH_CLIENTS: JSON.stringify(agency.clients.map((c) => ({ ...c, grant_types: (c['grant_types'] as string[]).filter((g) => !g.includes('token-exchange')) }))), BENCH_JWKS: JSON.stringify(await serverJwks()) },
  });
  const bareTarget = new BenchTarget({ url: bare.url, kind: 'bare', sockets: S.concurrency, clientId: CLIENT_ID, audience: AUDIENCE, key: agency.key, kid: agency.kid });
  try {
    await bareTarget.discover();
    await warmServer(bareTarget, S.accountsSmall);
    flows.push(...await runFlows({ t: bareTarget, server: bare, target: 'bare', profile: 'memory', accounts: S.accountsSmall }));
  } finally {
    bareTarget.close();
    await bare.stop();
  }

  say('OneDoor…');
  const db = await benchDatabase({ work });
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const redisPrefix = `onedoor-bench-${randomBytes(4).toString('hex')}:`;
  const admin = redisUrl ? new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 }) : undefined;
  const passkey = new BenchPasskey({ origin: issuer, rpId: 'localhost' });
  let ds: DataSource | undefined;
  let probeDs: DataSource | undefined;
  let restorePool: (() => Promise<void>) | undefined;
  try {
    ds = createDataSource(parseDatabaseUrl(db.url));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    const now = writeSqlDate(new Date());
    for (const c of agency.clients) {
      await ds.query(`INSERT INTO oidc_clients (client_id, metadata, created_at, updated_at) VALUES (?, ?, ?, ?)`, [c['client_id'], JSON.stringify(c), now, now]);
    }
    const isMysql = ds.options.type !== 'better-sqlite3';
    const dbVersion = String(Object.values((await ds.query(isMysql ? 'SELECT VERSION() AS v' : 'SELECT sqlite_version() AS v'))[0] as Record<string, string>)[0]);
    await seedAccounts({ ds, passkey, clientId: CLIENT_ID, scope: SCOPE, from: 0, to: S.accountsSmall });
    if (isMysql) {
      probeDs = createDataSource(parseDatabaseUrl(db.url));
      await probeDs.initialize();
    }
    if (admin) await admin.connect();

    let report: BenchReport | undefined;
    for (const [i, profile] of profiles.entries()) {
      const last = i === profiles.length - 1;
      const withRedis = profile.endsWith('+redis');
      say(`OneDoor, ${profile}…`);
      const env = {
        PORT: String(port), ISSUER: issuer, DATABASE_URL: db.url, KEYS_DIR: path.join(work, 'keys'), OUTBOX_DIR: path.join(work, 'outbox'),
        // Every simulated person comes from 127.0.0.1: per-IP limits would stop the bench, not measure it.
        RATE_LIMIT_MULTIPLIER: '10000',
        // With Redis, OneDoor keeps short-lived state and rate-limit counters there, as a
        // multi-node deployment would; the bench uses its own key prefix.
        REDIS_URL: withRedis ? redisUrl! : '', REDIS_KEY_PREFIX: redisPrefix,
      };
      const onedoor = await startServerProcess({ entry: 'onedoor', logFile: path.join(work, `onedoor-${profile}.log`), env });
      const t = new BenchTarget({ url: onedoor.url, kind: 'onedoor', sockets: S.concurrency, clientId: CLIENT_ID, audience: AUDIENCE, key: agency.key, kid: agency.kid, passkey });
      const probe = serviceProbe({ admin: probeDs, redis: withRedis ? admin : undefined });
      const run = (accounts: number, only?: string[]) => runFlows({ t, server: onedoor, target: 'onedoor', profile, probe, accounts, ...(only ? { only } : {}) });
      try {
        await t.discover();
        const rest = await onedoor.stats({ gc: true });
        say(`  RSS at rest: ${mib(rest.rssBytes)} MiB`);
        await warmServer(t, S.accountsSmall);
        flows.push(...await run(S.accountsSmall));
        if (!last || flowsOnly) {
          if (last) report = buildReport({ flows, ceiling, dbVersion, seeded: { rows: 0, seconds: 0 }, rest, after: rest, sessions: 0 });
          continue;
        }

        // Scale and memory on the production profile (the last one).
        for (let r = 1; r < S.repeat; r += 1) flows.push(...await run(S.accountsSmall, SCALE_FLOWS));
        say(`seeding ${S.accountsLarge.toLocaleString('en-US')} accounts…`);
        let shown = 0;
        const seeded = await seedAccounts({
          ds, passkey, clientId: CLIENT_ID, scope: SCOPE, from: S.accountsSmall, to: S.accountsLarge, batch: 2500,
          onProgress: (done) => { if (done - shown >= 100_000) { shown = done; say(`  ${done.toLocaleString('en-US')}`); } },
        });
        say(`  ${seeded.rows.toLocaleString('en-US')} rows in ${seeded.seconds.toFixed(1)} s`);
        let bufferPool: BenchReport['bufferPool'];
        if (isMysql) {
          const pool = await sizeBufferPool({ admin: ds, schema: new URL(db.url).pathname.slice(1), maxBytes: os.totalmem() });
          restorePool = pool.restore;
          bufferPool = { dataMiB: pool.dataMiB, beforeMiB: pool.beforeMiB, duringMiB: pool.duringMiB };
          say(`  buffer pool ${pool.duringMiB} MiB for ${pool.dataMiB} MiB of data (was ${pool.beforeMiB} MiB)`);
        }
        if (!smoke) {
          const quiet = await waitForQuiet();
          say(`  waited ${quiet.seconds} s for the machine to be quiet (${Math.round(quiet.busy * 100)}% busy)`);
        }
        for (let r = 0; r < S.repeat; r += 1) flows.push(...await run(S.accountsLarge, SCALE_FLOWS));
        if (restorePool) { await restorePool(); restorePool = undefined; }

        const countSessions = async () => Number(Object.values((await ds!.query(`SELECT COUNT(*) AS n FROM oidc_payloads WHERE model = 'Session'`))[0] as Record<string, number>)[0]);
        let sessions = await countSessions();
        say(`creating sessions up to ${S.sessions.toLocaleString('en-US')} (now ${sessions.toLocaleString('en-US')})…`);
        let needed = S.sessions - sessions;
        const sessionsStarted = performance.now();
        const toCreate = Math.max(0, needed);
        await Promise.all(Array.from({ length: S.concurrency }, async () => {
          while (needed > 0) {
            needed -= 1;
            await t.signInToCode({ n: pick(S.accountsLarge) });
            if (needed % 10_000 === 0 && needed > 0) say(`  ${needed.toLocaleString('en-US')} to go`);
          }
        }));
        sessions = Math.max(await countSessions(), sessions + toCreate);
        say(`  ${toCreate.toLocaleString('en-US')} sign-ins in ${((performance.now() - sessionsStarted) / 1000).toFixed(0)} s`);
        const after = await onedoor.stats({ gc: true });
        say(`  RSS with ${sessions.toLocaleString('en-US')} sessions: ${mib(after.rssBytes)} MiB`);
        report = buildReport({ flows, ceiling, dbVersion, seeded, rest, after, sessions, ...(bufferPool ? { bufferPool } : {}) });
      } finally {
        t.close();
        await onedoor.stop();
      }
    }

    const md = toMarkdown(report!);
    const stem = `${report!.date}-${dbKind}${profiles.some((p) => p.endsWith('+redis')) ? '-redis' : ''}${smoke ? '-smoke' : ''}`;
    fs.writeFileSync(path.join(outDir, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, `${stem}.md`), md);
    say(`\n${md}`);
    say(`written: ${path.relative(process.cwd(), path.join(outDir, stem))}.{json,md} (${Math.round((Date.now() - started) / 1000)} s)`);
    if (args['update-docs']) {
      updateDocs(md);
      say('docs/performance.md updated');
    }
    const errors = flows.filter((f) => f.errors > 0 || f.iterations === 0);
    if (errors.length) {
      process.stderr.write(`bench: ${errors.length} flow(s) had errors or did nothing: ${errors.map((f) => `${f.profile} ${f.flow}`).join(', ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    if (restorePool) await restorePool().catch(() => {});
    if (admin) {
      if (admin.status === 'ready') await dropRedisPrefix(admin, redisPrefix).catch(() => {});
      admin.disconnect();
    }
    if (probeDs?.isInitialized) await probeDs.destroy();
    if (ds?.isInitialized) await ds.destroy();
    await db.drop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function buildReport(r: { flows: FlowResult[]; ceiling: BenchReport['ceiling']; dbVersion: string; seeded: { rows: number; seconds: number }; rest: { rssBytes: number; heapUsedBytes: number }; after: { rssBytes: number; heapUsedBytes: number }; sessions: number; bufferPool?: BenchReport['bufferPool'] }): BenchReport {
  let commit = '';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* not a git checkout */ }
  const cpus = os.cpus();
  return {
    date: new Date().toISOString().slice(0, 10),
    mode: smoke ? 'smoke' : 'full',
    machine: { cpu: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, memoryGiB: Math.round(os.totalmem() / 1024 ** 3), os: `${os.type()} ${os.release()}` },
    versions: {
      onedoor: commit || (JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version,
      node: process.versions.node, 'oidc-provider': versionOf('oidc-provider'), '@simplewebauthn/server': versionOf('@simplewebauthn/server'), typeorm: versionOf('typeorm'), koa: versionOf('koa'), ioredis: versionOf('ioredis'),
    },
    database: { type: `${dbKind === 'sqlite' ? 'SQLite' : 'MariaDB/MySQL'}${profiles.some((p) => p.endsWith('+redis')) ? ' + Redis' : ''}`, version: r.dbVersion },
    profiles,
    settings: { serverWarmupSeconds: S.serverWarmupSeconds, warmupSeconds: S.warmupSeconds, durationSeconds: S.durationSeconds, concurrency: S.concurrency, accountsSmall: S.accountsSmall, accountsLarge: S.accountsLarge, sessions: S.sessions, repeat: S.repeat },
    ceiling: r.ceiling,
    flows: r.flows,
    ...compareFlows({ flows: r.flows, profiles, accountsSmall: S.accountsSmall, accountsLarge: S.accountsLarge }),
    ...(r.bufferPool ? { bufferPool: r.bufferPool } : {}),
    seeding: { accounts: r.seeded.rows ? S.accountsLarge - S.accountsSmall : 0, rows: r.seeded.rows, seconds: Math.round(r.seeded.seconds * 10) / 10, rowsPerSecond: r.seeded.seconds ? Math.round(r.seeded.rows / r.seeded.seconds) : 0 },
    memory: { restMiB: mib(r.rest.rssBytes), restHeapMiB: mib(r.rest.heapUsedBytes), sessions: r.sessions, afterSessionsMiB: mib(r.after.rssBytes), afterSessionsHeapMiB: mib(r.after.heapUsedBytes) },
  };
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`bench failed: ${err.message}\n`);
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
