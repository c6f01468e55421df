import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BenchReport } from '../../bench/lib/report.js';

/**
 * `npm run bench -- --smoke`: every flow of the benchmark runs for a moment against OneDoor and
 * bare oidc-provider (on this run's database: SQLite, or MariaDB when DATABASE_URL says so), so
 * that the benchmark cannot rot. The figures are not looked at; that every flow worked is.
 */
const run = promisify(execFile);

test('when the benchmark runs in smoke mode, then every flow completes without errors and the report is written', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-bench-smoke-'));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], { cwd: process.cwd(), timeout: 170_000, maxBuffer: 10 * 1024 * 1024 });
    expect(stdout).toContain('| flow | server |');
    const files = fs.readdirSync(out);
    const json = files.find((f) => f.endsWith('-smoke.json'));
    expect(json).toBeDefined();
    expect(files).toContain(json!.replace(/\.json$/, '.md'));
    const report = JSON.parse(fs.readFileSync(path.join(out, json!), 'utf8')) as BenchReport;
    expect(report.mode).toBe('smoke');
    const mysql = /^mysql/.test(process.env['DATABASE_URL'] ?? '');
    expect(report.database.type).toBe(mysql ? 'MariaDB/MySQL' : 'SQLite');
    expect(report.profiles).toEqual([mysql ? 'mysql' : 'sqlite']);

    const ran = (target: string) => report.flows.filter((f) => f.target === target && f.accounts !== report.settings.accountsLarge).map((f) => f.flow).sort();
    const shared = ['client credentials', 'code redemption', 'discovery', 'full sign-in', 'introspection', 'jwks', 'refresh', 'userinfo'];
    expect(ran('bare')).toEqual(shared);
    expect(ran('onedoor')).toEqual([...shared, 'token exchange'].sort());
    for (const f of report.flows) {
      expect({ flow: `${f.target} ${f.flow}`, errors: f.errors }).toEqual({ flow: `${f.target} ${f.flow}`, errors: 0 });
      expect(f.iterations).toBeGreaterThan(0);
      expect(f.cpuMsPerOp).toBeGreaterThan(0);
      expect(f.profile).toBe(f.target === 'bare' ? 'memory' : report.profiles[0]);
      expect(f.totalCpuMsPerOp).toBeCloseTo(f.cpuMsPerOp + f.serviceCpuMsPerOp, 2);
      expect(f.totalPerCore).toBeGreaterThan(0);
      expect(f.redisCommandsPerOp).toBe(0);
      // Bare oidc-provider and OneDoor's discovery and JWKS send no statement; every other OneDoor
      // flow does. (MariaDB's count is server-wide: other clients of a shared server add to it.)
      const none = f.target === 'bare' || f.flow === 'discovery' || f.flow === 'jwks';
      if (none && (f.target === 'bare' || !mysql)) expect({ flow: `${f.target} ${f.flow}`, sql: f.statementsPerOp }).toEqual({ flow: `${f.target} ${f.flow}`, sql: 0 });
      if (!none) expect(f.statementsPerOp).toBeGreaterThan(0);
    }
    expect(report.overhead.map((o) => o.flow).sort()).toEqual(shared);
    expect(report.overhead.every((o) => o.ratio > 0 && o.onedoorTotalCpuMs >= o.onedoorCpuMs)).toBe(true);
    expect(report.scale.map((s) => s.flow).sort()).toEqual(['code redemption', 'full sign-in', 'introspection', 'refresh', 'userinfo']);
    expect(report.ceiling.map((c) => c.operation)).toEqual(['ES256 sign', 'ES256 verify', 'RS256 sign', 'RS256 verify', 'EdDSA sign', 'EdDSA verify', 'verifyAuthenticationResponse']);
    expect(report.ceiling.every((c) => c.perSecond > 0)).toBe(true);
    expect(report.memory.sessions).toBeGreaterThanOrEqual(report.settings.sessions);
    expect(report.memory.afterSessionsMiB).toBeGreaterThan(0);
    expect(report.seeding.rows).toBe(3 * (report.settings.accountsLarge - report.settings.accountsSmall));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 180_000);

test('when a short soak runs, then mixed traffic, delegated sign-ins included, runs without errors and the report shows windows, operations, memory, handles and connections', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-soak-smoke-'));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--soak', '3', '--smoke', '--out', out], { cwd: process.cwd(), timeout: 90_000, maxBuffer: 10 * 1024 * 1024 });
    expect(stdout).toContain('| at (s) | ops | errors | p99 (ms) | RSS (MiB) | heap (MiB) | handles |');
    expect(stdout).toMatch(/In all: [1-9]\d* operations, 0 errors\./);
    // Every kind of operation ran, without an error: a helper signed in for the person they help
    // (an ID token without `act` would have counted as an error).
    const byOp = Object.fromEntries([...stdout.matchAll(/^\| ([a-z -]+) \| (\d+) \| (\d+) \| (\d+) \|$/gm)].map(([, name, , ops, errors]) => [name, { ops: Number(ops), errors: Number(errors) }]));
    expect(Object.keys(byOp).sort()).toEqual(['code redemption', 'delegated sign-in', 'full sign-in', 'refresh', 'token exchange', 'userinfo']);
    for (const [name, n] of Object.entries(byOp)) expect({ name, ran: n.ops > 0, errors: n.errors }).toEqual({ name, ran: true, errors: 0 });
    expect(stdout).toMatch(/open handles, database connections: /);
    expect(fs.readdirSync(out).some((f) => f.endsWith('-soak-smoke.md'))).toBe(true);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 100_000);
