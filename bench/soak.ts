import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig.js';
import { parseDatabaseUrl } from '../src/config/loadConfig.js';
import { writeSqlDate } from '../src/shared/sqlValues.js';
import { agencyClients, AUDIENCE, benchDatabase, CLIENT_ID } from './lib/benchSetup.js';
import { BenchPasskey } from './lib/benchPasskey.js';
import { BenchTarget, SCOPE } from './lib/BenchTarget.js';
import type { CookieJar } from './lib/http.js';
import { percentile } from './lib/runLoad.js';
import { seedAccounts } from './lib/seedAccounts.js';
import { seedDelegations } from './lib/seedDelegations.js';
import { freePort, type ServerStats, startServerProcess } from './lib/ServerProcess.js';

/**
 * `npm run bench -- --soak SECONDS`: mixed traffic against one OneDoor process for that long,
 * at about half of the mix's capacity measured first, on DATABASE_URL's database (and Redis
 * when REDIS_URL is set). Reports, per window: operations, errors, p99 latency, RSS and heap;
 * per kind of operation: operations and errors;
 * at the end: open handles and database connections. Markdown on stdout and in
 * bench/results/<date>-soak.md. What grows when the load is flat is a leak.
 */
interface Worker { jar: CookieJar; accessToken: string; refreshToken: string }
interface Window { atSeconds: number; ops: number; errors: number; p99Ms: number; rssMiB: number; heapMiB: number; handles: number }

/** The mix, by weight: what a day of traffic looks like (most calls are agencies' back ends). */
const MIX: Array<[string, number]> = [['full sign-in', 1], ['delegated sign-in', 1], ['code redemption', 2], ['refresh', 2], ['userinfo', 4], ['token exchange', 1]];
const mib = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
const pickOp = () => { let r = Math.random() * MIX.reduce((n, [, w]) => n + w, 0); for (const [op, w] of MIX) { r -= w; if (r < 0) return op; } return MIX[0]![0]; };

export async function runSoak(opts: { seconds: number; concurrency: number; smoke: boolean; work: string; outDir: string; say: (m: string) => void }): Promise<number> {
  const { say } = opts;
  const accounts = opts.smoke ? 20 : 1000;
  // Helpers are accounts of their own, after the people: a helper signing in at an agency that
  // allows delegation is asked whom they act for, so the mix's other sign-ins never pick one.
  const helpers = opts.smoke ? 5 : 100;
  const agency = await agencyClients({ clientId: CLIENT_ID, audience: AUDIENCE });
  // The soak's copy of the agency's client file lets helpers sign in for the people they help.
  const clients = agency.clients.map((c) => (c['client_id'] === CLIENT_ID ? { ...c, delegation_enabled: true } : c));
  const db = await benchDatabase({ work: opts.work });
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const server = await startServerProcess({
    entry: 'onedoor', logFile: path.join(opts.work, 'onedoor.log'),
    env: {
      PORT: String(port), ISSUER: issuer, DATABASE_URL: db.url, KEYS_DIR: path.join(opts.work, 'keys'), OUTBOX_DIR: path.join(opts.work, 'outbox'), RATE_LIMIT_MULTIPLIER: '10000',
      ...(process.env['REDIS_URL'] ? { REDIS_URL: process.env['REDIS_URL'], REDIS_KEY_PREFIX: `onedoor-soak-${process.pid}:` } : {}),
    },
  });
  const passkey = new BenchPasskey({ origin: issuer, rpId: 'localhost' });
  const t = new BenchTarget({ url: server.url, kind: 'onedoor', sockets: opts.concurrency, clientId: CLIENT_ID, audience: AUDIENCE, key: agency.key, kid: agency.kid, passkey });
  let ds: DataSource | undefined;
  try {
    ds = createDataSource(parseDatabaseUrl(db.url));
    await ds.initialize();
    const now = writeSqlDate(new Date());
    for (const c of clients) await ds.query('INSERT INTO oidc_clients (client_id, metadata, created_at, updated_at) VALUES (?, ?, ?, ?)', [c['client_id'], JSON.stringify(c), now, now]);
    await seedAccounts({ ds, passkey, clientId: CLIENT_ID, scope: SCOPE, from: 0, to: accounts + helpers });
    // Helper accounts+i helps person i (consent, at the bench agency, for its scopes).
    await seedDelegations({
      ds, clientId: CLIENT_ID, scopes: SCOPE.split(' ').filter((s) => s !== 'openid'),
      pairs: Array.from({ length: helpers }, (_, i) => ({ helperId: BenchPasskey.accountId(accounts + i), principalId: BenchPasskey.accountId(i), helperEmail: `person${accounts + i}@bench.example` })),
    });
    await t.discover();
    const pick = () => Math.floor(Math.random() * accounts);
    /** A helper signs in for the person they help; an ID token without `act` (signed in as themself) is an error. */
    const delegatedSignIn = async () => {
      const i = Math.floor(Math.random() * helpers);
      const { code } = await t.delegatedSignInToCode({ helper: accounts + i, principalEmail: `person${i}@bench.example` });
      const { id_token } = await t.redeem(code);
      const claims = JSON.parse(Buffer.from(id_token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string; act?: { sub?: string } };
      if (!claims.act?.sub || claims.act.sub === claims.sub) throw new Error('the ID token has no act claim (signed in as the helper)');
    };
    const workers: Worker[] = await Promise.all(Array.from({ length: opts.concurrency }, async () => {
      const { jar, code } = await t.signInToCode({ n: pick() });
      const { access_token } = await t.redeem(code);
      const { refresh_token } = await t.redeem(await t.consentToCode({ n: pick(), jar }));
      return { jar, accessToken: access_token, refreshToken: refresh_token! };
    }));
    const op = async (w: Worker, name: string) => {
      if (name === 'full sign-in') { const { code } = await t.signInToCode({ n: pick() }); await t.redeem(code); }
      else if (name === 'delegated sign-in') await delegatedSignIn();
      else if (name === 'code redemption') w.accessToken = (await t.redeem(await t.codeFromSession(w.jar))).access_token;
      else if (name === 'refresh') w.refreshToken = await t.refresh(w.refreshToken);
      else if (name === 'userinfo') await t.userinfo(w.accessToken);
      else await t.tokenExchange(w.accessToken);
    };

    // Capacity of the mix: every worker as fast as it can.
    const capacitySeconds = opts.smoke ? 0.5 : Math.min(15, Math.max(3, opts.seconds / 20));
    let done = 0;
    const capStop = Date.now() + capacitySeconds * 1000;
    await Promise.all(workers.map(async (w) => { while (Date.now() < capStop) { await op(w, pickOp()).catch(() => {}); done += 1; } }));
    const capacity = done / capacitySeconds;
    const rate = capacity / 2;
    say(`soak: mix capacity ${capacity.toFixed(0)} ops/s; running ${opts.seconds} s at ${rate.toFixed(0)} ops/s`);

    // The soak: a fixed schedule of start times (open loop), served by the workers in turn.
    const windowSeconds = Math.max(1, Math.round(opts.seconds / 20));
    const windows: Window[] = [];
    let latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    let totalOps = 0;
    const byOp = new Map(MIX.map(([n]) => [n, { ops: 0, errors: 0 }]));
    let scheduled = 0;
    let totalErrors = 0;
    const start = Date.now();
    const end = start + opts.seconds * 1000;
    let next = start;
    const interval = 1000 / rate;
    const sampler = (async () => {
      for (let i = 1; Date.now() < end; i += 1) {
        await new Promise((r) => setTimeout(r, Math.max(0, start + i * windowSeconds * 1000 - Date.now())));
        const s: ServerStats = await server.stats();
        latencies.sort((a, b) => a - b);
        windows.push({ atSeconds: Math.round((Date.now() - start) / 1000), ops: latencies.length, errors, p99Ms: Math.round(percentile(latencies, 99) * 10) / 10, rssMiB: mib(s.rssBytes), heapMiB: mib(s.heapUsedBytes), handles: s.activeHandles });
        latencies = [];
        errors = 0;
      }
    })();
    await Promise.all(workers.map(async (w) => {
      while (true) {
        const at = next;
        next += interval;
        if (at >= end) return;
        // The first operations of the schedule are the mix once each, so even a short run has them all.
        const name = scheduled < MIX.length ? MIX[scheduled]![0] : pickOp();
        scheduled += 1;
        if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
        const t0 = performance.now();
        try {
          await op(w, name);
          latencies.push(performance.now() - t0);
          totalOps += 1;
          byOp.get(name)!.ops += 1;
        } catch (err) {
          errors += 1;
          totalErrors += 1;
          byOp.get(name)!.errors += 1;
          firstError ??= `${name}: ${(err as Error).message}`;
        }
      }
    }));
    await sampler;
    const final = await server.stats({ gc: true });
    const connections = ds.options.type === 'mysql'
      ? String(Object.values((await ds.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE()'))[0] as Record<string, number>)[0] - 1)
      : 'one file (SQLite)';

    const lines = [
      `## Soak: ${opts.seconds} s of mixed traffic${opts.smoke ? ' (smoke: figures mean nothing)' : ''}`,
      '',
      `\`npm run bench -- --soak ${opts.seconds}\` on ${ds.options.type === 'mysql' ? 'MariaDB/MySQL' : 'SQLite'}${process.env['REDIS_URL'] ? ' + Redis' : ''}, ${opts.concurrency} workers, ${accounts} accounts and ${helpers} helpers (each helps one of them, by consent).`,
      `Mix by weight: ${MIX.map(([n, w]) => `${n} ${w}`).join(', ')}. Capacity of the mix ${capacity.toFixed(0)} ops/s; run at ${rate.toFixed(0)} ops/s.`,
      '',
      '| at (s) | ops | errors | p99 (ms) | RSS (MiB) | heap (MiB) | handles |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...windows.map((w) => `| ${w.atSeconds} | ${w.ops} | ${w.errors} | ${w.p99Ms} | ${w.rssMiB} | ${w.heapMiB} | ${w.handles} |`),
      '',
      '| operation | weight | ops | errors |',
      '|---|---:|---:|---:|',
      ...MIX.map(([n, wt]) => `| ${n} | ${wt} | ${byOp.get(n)!.ops} | ${byOp.get(n)!.errors} |`),
      '',
      `In all: ${totalOps} operations, ${totalErrors} errors${firstError ? ` (first: ${firstError})` : ''}. At the end, after a full GC: RSS ${mib(final.rssBytes)} MiB, heap ${mib(final.heapUsedBytes)} MiB, ${final.activeHandles} open handles, database connections: ${connections}.`,
    ];
    const md = `${lines.join('\n')}\n`;
    say(md);
    fs.mkdirSync(opts.outDir, { recursive: true });
    fs.writeFileSync(path.join(opts.outDir, `${new Date().toISOString().slice(0, 10)}-soak${opts.smoke ? '-smoke' : ''}.md`), md);
    return totalErrors > 0 ? 1 : 0;
  } finally {
    t.close();
    await server.stop();
    if (ds?.isInitialized) await ds.destroy();
    await db.drop();
  }
}
