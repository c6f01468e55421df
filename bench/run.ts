import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import type { DataSource } from 'typeorm';
import { parseDatabaseUrl } from '../src/config/loadConfig.js';
import { projectRoot } from '../src/shared/paths.js';
import { writeSqlDate } from '../src/shared/sqlValues.js';
import { createDataSource } from '../ormconfig.js';
import { BenchPasskey } from './lib/benchPasskey.js';
import { agencyClients, AUDIENCE, CLIENT_ID } from './lib/agencyClients.js';
import { benchDatabase } from './lib/benchDatabase.js';
import { BenchTarget, SCOPE } from './lib/BenchTarget.js';
import type { CookieJar } from './lib/http.js';
import { measureCeiling } from './lib/measureCeiling.js';
import { type BenchReport, type Goal, toMarkdown } from './lib/report.js';
import { type FlowResult, runLoad } from './lib/runLoad.js';
import { seedAccounts } from './lib/seedAccounts.js';
import { waitForQuiet } from './lib/waitForQuiet.js';
import { runSoak } from './soak.js';
import { freePort, type ServerProcess, startServerProcess } from './lib/ServerProcess.js';

/**
 * `npm run bench`: OneDoor's cost per operation, side by side with bare oidc-provider and the
 * crypto ceiling, at 1k and 1M seeded accounts, with memory after 100k sessions. Prints a table
 * and writes bench/results/<date>-<database>.{json,md}. `--smoke` runs every flow for a moment
 * (the test suite does, so the bench cannot rot); figures from it mean nothing.
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
};
/** `--profile DIR`: a .cpuprofile of the server per flow (measured window only). */
const profileDir = args.profile ? path.resolve(args.profile) : undefined;
if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
/** `--only "full sign-in,userinfo"`: run just these flows (for profiling one of them). */
const onlyFlows = args.only?.split(',').map((f) => f.trim()).filter(Boolean);
const outDir = path.resolve(args.out ?? path.join(projectRoot, 'bench', 'results'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-bench-'));
const say = (m: string) => process.stdout.write(`${m}\n`);


const pick = (n: number) => Math.floor(Math.random() * n);

/** Per worker: a browser with a session, an access token, a refresh token (set up unmeasured). */
interface Worker { jar: CookieJar; accessToken: string; refreshToken: string }

async function prepareWorkers(t: BenchTarget, accounts: number): Promise<Worker[]> {
  return Promise.all(Array.from({ length: S.concurrency }, async () => {
    const n = pick(accounts);
    const { jar, code } = await t.signInToCode({ n });
    const { access_token } = await t.redeem(code);
    const refreshCode = await t.consentToCode({ n, jar });
    const { refresh_token } = await t.redeem(refreshCode);
    if (!refresh_token) throw new Error('no refresh token issued');
    return { jar, accessToken: access_token, refreshToken: refresh_token };
  }));
}

/** Codes made ahead (unmeasured) from the workers' sessions, so that redemption is measured alone. */
async function makeCodes(t: BenchTarget, workers: Worker[], count: number): Promise<string[]> {
  const codes: string[] = [];
  await Promise.all(workers.map(async (w) => {
    while (codes.length < count) codes.push(await t.codeFromSession(w.jar));
  }));
  return codes;
}

/** Unmeasured: the full sign-in loop (every page, the passkey, code, token, userinfo) for a while. */
async function warmServer(t: BenchTarget, accounts: number): Promise<void> {
  const stopAt = Date.now() + S.serverWarmupSeconds * 1000;
  await Promise.all(Array.from({ length: S.concurrency }, async () => {
    while (Date.now() < stopAt) {
      const { code } = await t.signInToCode({ n: pick(accounts) });
      const { access_token } = await t.redeem(code);
      await t.userinfo(access_token);
    }
  }));
}

async function runFlows(opts: { t: BenchTarget; server: ServerProcess; target: 'onedoor' | 'bare'; accounts: number; only?: string[] }): Promise<FlowResult[]> {
  const { t, server, target, accounts } = opts;
  const results: FlowResult[] = [];
  const want = (f: string) => (!opts.only || opts.only.includes(f)) && (!onlyFlows || onlyFlows.includes(f));
  const load = async (flow: string, iteration: (w: number) => Promise<boolean | void>) => {
    const r = await runLoad({
      flow, target, server, concurrency: S.concurrency, warmupMs: S.warmupSeconds * 1000, durationMs: S.durationSeconds * 1000, iteration,
      ...(target === 'onedoor' ? { accounts } : {}),
      ...(profileDir ? { profileFile: path.join(profileDir, `${target}-${accounts}-${flow.replace(/\W+/g, '-')}.cpuprofile`) } : {}),
    });
    results.push(r);
    say(`  ${target.padEnd(7)} ${flow.padEnd(24)} ${String(r.rps).padStart(8)}/s  p99 ${String(r.p99Ms).padStart(7)} ms  cpu ${String(r.cpuMsPerOp).padStart(7)} ms/op  per core ${String(r.perCore).padStart(6)}/s${r.errors ? `  ERRORS ${r.errors}: ${r.firstError}` : ''}`);
  };

  if (want('discovery')) await load('discovery', async () => { await t.discovery(); });
  if (want('jwks')) await load('jwks', async () => { await t.jwks(); });
  if (want('full sign-in')) {
    await load('full sign-in', async () => {
      const { code } = await t.signInToCode({ n: pick(accounts) });
      const { access_token } = await t.redeem(code);
      await t.userinfo(access_token);
    });
  }
  const workers = await prepareWorkers(t, accounts);
  if (want('code redemption')) {
    // Enough codes for the warm-up and the measured window at a generous rate; codes live 60 s.
    const pool = await makeCodes(t, workers, smoke ? 100 : Math.min(20_000, Math.round((S.warmupSeconds + S.durationSeconds) * 1200)));
    await load('code redemption', async () => {
      const code = pool.pop();
      if (!code) return false;
      await t.redeem(code);
    });
  }
  if (want('refresh')) await load('refresh', async (w) => { workers[w]!.refreshToken = await t.refresh(workers[w]!.refreshToken); });
  if (want('introspection')) await load('introspection', async (w) => { await t.introspect(workers[w]!.accessToken); });
  if (want('userinfo')) await load('userinfo', async (w) => { await t.userinfo(workers[w]!.accessToken); });
  if (want('client credentials')) await load('client credentials', async () => { await t.clientCredentials(); });
  if (want('token exchange') && target === 'onedoor') await load('token exchange', async (w) => { await t.tokenExchange(workers[w]!.accessToken); });
  return results;
}

async function serverJwks(): Promise<{ keys: unknown[] }> {
  const keys = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `bare-${alg}` });
  }
  return { keys };
}

function versionOf(pkg: string): string {
  return (JSON.parse(fs.readFileSync(path.join(projectRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

const mib = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

async function main(): Promise<number> {
  if (args.soak !== undefined) return runSoak({ seconds: positiveInt('soak', args.soak, 60), concurrency: S.concurrency, smoke, work, outDir, say });
  fs.mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  say(`OneDoor bench${smoke ? ' (smoke)' : ''}: ${S.durationSeconds} s per flow after ${S.warmupSeconds} s warm-up, concurrency ${S.concurrency}`);

  say('crypto ceiling (one core)…');
  const ceiling = await measureCeiling(S.ceilingMs);
  for (const c of ceiling) say(`  ${c.operation.padEnd(30)} ${c.perSecond}/s`);

  const agency = await agencyClients();
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
    flows.push(...await runFlows({ t: bareTarget, server: bare, target: 'bare', accounts: S.accountsSmall }));
  } finally {
    bareTarget.close();
    await bare.stop();
  }

  say('OneDoor…');
  const db = await benchDatabase(work);
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const env = {
    PORT: String(port), ISSUER: issuer, DATABASE_URL: db.url, KEYS_DIR: path.join(work, 'keys'), OUTBOX_DIR: path.join(work, 'outbox'),
    // Every simulated person comes from 127.0.0.1: per-IP limits would stop the bench, not measure it.
    RATE_LIMIT_MULTIPLIER: '10000',
    // With REDIS_URL, OneDoor keeps short-lived protocol state and rate-limit counters there, as
    // a multi-node deployment would; the bench uses its own key prefix.
    ...(process.env['REDIS_URL'] ? { REDIS_URL: process.env['REDIS_URL'], REDIS_KEY_PREFIX: `onedoor-bench-${randomBytes(4).toString('hex')}:` } : {}),
  };
  const onedoor = await startServerProcess({ entry: 'onedoor', logFile: path.join(work, 'onedoor.log'), env });
  let ds: DataSource | undefined;
  const passkey = new BenchPasskey({ origin: issuer, rpId: 'localhost' });
  const t = new BenchTarget({ url: onedoor.url, kind: 'onedoor', sockets: S.concurrency, clientId: CLIENT_ID, audience: AUDIENCE, key: agency.key, kid: agency.kid, passkey });
  try {
    ds = createDataSource(parseDatabaseUrl(db.url));
    await ds.initialize();
    const now = writeSqlDate(new Date());
    for (const c of agency.clients) {
      await ds.query(`INSERT INTO oidc_clients (client_id, metadata, created_at, updated_at) VALUES (?, ?, ?, ?)`, [c['client_id'], JSON.stringify(c), now, now]);
    }
    const dbVersion = String(Object.values((await ds.query(ds.options.type === 'better-sqlite3' ? 'SELECT sqlite_version() AS v' : 'SELECT VERSION() AS v'))[0] as Record<string, string>)[0]);

    await seedAccounts({ ds, passkey, clientId: CLIENT_ID, scope: SCOPE, from: 0, to: S.accountsSmall });
    await t.discover();
    const rest = await onedoor.stats({ gc: true });
    say(`  RSS at rest: ${mib(rest.rssBytes)} MiB`);
    await warmServer(t, S.accountsSmall);
    flows.push(...await runFlows({ t, server: onedoor, target: 'onedoor', accounts: S.accountsSmall }));

    say(`seeding ${S.accountsLarge.toLocaleString('en-US')} accounts…`);
    let last = 0;
    const seeded = await seedAccounts({
      ds, passkey, clientId: CLIENT_ID, scope: SCOPE, from: S.accountsSmall, to: S.accountsLarge, batch: 2500,
      onProgress: (done) => { if (done - last >= 100_000) { last = done; say(`  ${done.toLocaleString('en-US')}`); } },
    });
    say(`  ${seeded.rows.toLocaleString('en-US')} rows in ${seeded.seconds.toFixed(1)} s`);
    if (!smoke) {
      const quiet = await waitForQuiet();
      say(`  waited ${quiet.seconds} s for the machine to be quiet (${Math.round(quiet.busy * 100)}% busy)`);
    }
    const scaleFlows = ['full sign-in', 'code redemption', 'refresh', 'introspection', 'userinfo'];
    const large = await runFlows({ t, server: onedoor, target: 'onedoor', accounts: S.accountsLarge, only: scaleFlows });
    flows.push(...large);

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
    sessions = await countSessions();
    say(`  ${toCreate.toLocaleString('en-US')} sign-ins in ${((performance.now() - sessionsStarted) / 1000).toFixed(0)} s`);
    const after = await onedoor.stats({ gc: true });
    say(`  RSS with ${sessions.toLocaleString('en-US')} sessions: ${mib(after.rssBytes)} MiB`);

    const report = buildReport({ flows, ceiling, dbType: `${ds.options.type === 'better-sqlite3' ? 'SQLite' : 'MariaDB/MySQL'}${process.env['REDIS_URL'] ? ' + Redis' : ''}`, dbVersion, seeded, rest, after, sessions });
    const md = toMarkdown(report);
    const stem = `${report.date}-${report.database.type.startsWith('SQLite') ? 'sqlite' : 'mysql'}${process.env['REDIS_URL'] ? '-redis' : ''}${smoke ? '-smoke' : ''}`;
    fs.writeFileSync(path.join(outDir, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, `${stem}.md`), md);
    say(`\n${md}`);
    say(`written: ${path.relative(process.cwd(), path.join(outDir, stem))}.{json,md} (${Math.round((Date.now() - started) / 1000)} s)`);
    const errors = flows.filter((f) => f.errors > 0 || f.iterations === 0);
    if (errors.length) {
      process.stderr.write(`bench: ${errors.length} flow(s) had errors or did nothing: ${errors.map((f) => `${f.target} ${f.flow}`).join(', ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    t.close();
    await onedoor.stop();
    if (ds?.isInitialized) await ds.destroy();
    await db.drop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function buildReport(r: { flows: FlowResult[]; ceiling: BenchReport['ceiling']; dbType: string; dbVersion: string; seeded: { rows: number; seconds: number }; rest: { rssBytes: number; heapUsedBytes: number }; after: { rssBytes: number; heapUsedBytes: number }; sessions: number }): BenchReport {
  const find = (flow: string, target: 'onedoor' | 'bare', accounts?: number) => r.flows.find((f) => f.flow === flow && f.target === target && (accounts === undefined || f.accounts === accounts));
  const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 100) / 100 : 0);
  const overhead = r.flows.filter((f) => f.target === 'bare').flatMap((b) => {
    const o = find(b.flow, 'onedoor', S.accountsSmall);
    return o ? [{ flow: b.flow, onedoorCpuMs: o.cpuMsPerOp, bareCpuMs: b.cpuMsPerOp, ratio: ratio(o.cpuMsPerOp, b.cpuMsPerOp) }] : [];
  });
  const scale = r.flows.filter((f) => f.target === 'onedoor' && f.accounts === S.accountsLarge).flatMap((l) => {
    const s = find(l.flow, 'onedoor', S.accountsSmall);
    return s ? [{ flow: l.flow, p99Small: s.p99Ms, p99Large: l.p99Ms, p99Ratio: ratio(l.p99Ms, s.p99Ms), cpuSmall: s.cpuMsPerOp, cpuLarge: l.cpuMsPerOp, cpuRatio: ratio(l.cpuMsPerOp, s.cpuMsPerOp) }] : [];
  });

  const goals: Goal[] = [];
  const perCore: Array<[string, number]> = [['full sign-in', 300], ['code redemption', 1000], ['refresh', 800], ['introspection', 3000], ['userinfo', 3000], ['token exchange', 800], ['discovery', 8000], ['jwks', 8000]];
  for (const [flow, target] of perCore) {
    const f = find(flow, 'onedoor', S.accountsSmall);
    if (f) goals.push({ what: `${flow} per core`, goal: `≥ ${target.toLocaleString('en-US')}/s`, measured: `${f.perCore.toLocaleString('en-US')}/s`, met: f.perCore >= target });
  }
  for (const o of overhead.filter((x) => ['code redemption', 'refresh', 'client credentials'].includes(x.flow))) {
    goals.push({ what: `${o.flow}: OneDoor / bare CPU`, goal: '≤ 1.5×', measured: `${o.ratio}×`, met: o.ratio <= 1.5 });
  }
  for (const s of scale) goals.push({ what: `${s.flow}: p99 at ${S.accountsLarge.toLocaleString('en-US')} vs ${S.accountsSmall.toLocaleString('en-US')}`, goal: '≤ 1.2×', measured: `${s.p99Ratio}×`, met: s.p99Ratio <= 1.2 });

  let commit = '';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* not a git checkout */ }
  const cpus = os.cpus();
  return {
    date: new Date().toISOString().slice(0, 10),
    mode: smoke ? 'smoke' : 'full',
    machine: { cpu: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, memoryGiB: Math.round(os.totalmem() / 1024 ** 3), os: `${os.type()} ${os.release()}` },
    versions: {
      onedoor: commit || (JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version,
      node: process.versions.node, 'oidc-provider': versionOf('oidc-provider'), '@simplewebauthn/server': versionOf('@simplewebauthn/server'), typeorm: versionOf('typeorm'), koa: versionOf('koa'),
    },
    database: { type: r.dbType, version: r.dbVersion },
    settings: { serverWarmupSeconds: S.serverWarmupSeconds, warmupSeconds: S.warmupSeconds, durationSeconds: S.durationSeconds, concurrency: S.concurrency, accountsSmall: S.accountsSmall, accountsLarge: S.accountsLarge, sessions: S.sessions },
    ceiling: r.ceiling,
    flows: r.flows,
    overhead,
    scale,
    seeding: { accounts: S.accountsLarge - S.accountsSmall, rows: r.seeded.rows, seconds: Math.round(r.seeded.seconds * 10) / 10, rowsPerSecond: Math.round(r.seeded.rows / r.seeded.seconds) },
    memory: { restMiB: mib(r.rest.rssBytes), restHeapMiB: mib(r.rest.heapUsedBytes), sessions: r.sessions, afterSessionsMiB: mib(r.after.rssBytes), afterSessionsHeapMiB: mib(r.after.heapUsedBytes) },
    goals,
  };
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`bench failed: ${err.message}\n`);
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
