import type { FlowResult, Profile } from './runLoad.js';
import type { CeilingResult } from './measureCeiling.js';

export interface Goal {
  what: string;
  goal: string;
  measured: string;
  met: boolean;
}

export interface ScaleRow {
  flow: string;
  profile: Profile;
  runs: number;
  /** Medians over the runs; `p99SmallRange`/`p99LargeRange` are [lowest, highest]. */
  p99Small: number;
  p99Large: number;
  p99SmallRange: [number, number];
  p99LargeRange: [number, number];
  p99Ratio: number;
  cpuSmall: number;
  cpuLarge: number;
  cpuRatio: number;
}

export interface BenchReport {
  date: string;
  mode: 'full' | 'smoke';
  machine: { cpu: string; cores: number; memoryGiB: number; os: string };
  versions: Record<string, string>;
  database: { type: string; version: string };
  /** OneDoor's profiles in this run, in the order measured; the last is the one scale and memory ran on. */
  profiles: Profile[];
  settings: { serverWarmupSeconds: number; warmupSeconds: number; durationSeconds: number; concurrency: number; accountsSmall: number; accountsLarge: number; sessions: number; repeat: number };
  ceiling: CeilingResult[];
  flows: FlowResult[];
  /** OneDoor total CPU per operation (process + services) / bare oidc-provider's, per profile and shared flow. */
  overhead: Array<{ flow: string; profile: Profile; onedoorCpuMs: number; onedoorTotalCpuMs: number; bareCpuMs: number; processRatio: number; ratio: number }>;
  scale: ScaleRow[];
  /** MariaDB's buffer pool during the scale runs (set to the seeded data's size, restored afterwards). */
  bufferPool?: { dataMiB: number; beforeMiB: number; duringMiB: number };
  seeding: { accounts: number; rows: number; seconds: number; rowsPerSecond: number };
  memory: { restMiB: number; restHeapMiB: number; sessions: number; afterSessionsMiB: number; afterSessionsHeapMiB: number };
  goals: Goal[];
}

const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 }));
const serverName = (f: FlowResult) => (f.target === 'bare' ? 'bare oidc-provider' : `OneDoor ${f.profile}`);

/** The report as Markdown: what docs/performance.md shows. */
export function toMarkdown(r: BenchReport): string {
  const lines: string[] = [];
  lines.push(`### OneDoor benchmark, ${r.date}${r.mode === 'smoke' ? ' (smoke run: figures are not meaningful)' : ''}`, '');
  lines.push(`Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.os}. ` +
    `Database: ${r.database.type} ${r.database.version}. OneDoor profiles: ${r.profiles.join(', ')}. ` +
    `Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  lines.push(`Each server first signs people in for ${r.settings.serverWarmupSeconds} s, unmeasured, so that V8 has optimized it. Each flow: ${r.settings.warmupSeconds} s warm-up, then ${r.settings.durationSeconds} s at concurrency ${r.settings.concurrency}; ` +
    `load generator on the same machine. **process** = CPU of the server process (read by itself); **total** = process + the database and cache servers on this machine (from /proc); ` +
    `**per core** = 1 / CPU seconds per operation. Statements: MariaDB \`Questions\` (on SQLite, counted by OneDoor); Redis: \`INFO commandstats\`.`, '');
  lines.push('| flow | server | accounts | ops/s | p50 ms | p95 ms | p99 ms | process CPU ms/op | total CPU ms/op | per core, process /s | per core, total /s | SQL /op | Redis /op | errors |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const f of r.flows) {
    lines.push(`| ${f.flow} | ${serverName(f)} | ${f.accounts === undefined ? '' : fmt(f.accounts)} | ${fmt(f.rps)} | ${fmt(f.p50Ms)} | ${fmt(f.p95Ms)} | ${fmt(f.p99Ms)} | ${fmt(f.cpuMsPerOp)} | ${fmt(f.totalCpuMsPerOp)} | ${fmt(f.perCore)} | ${fmt(f.totalPerCore)} | ${fmt(f.statementsPerOp)} | ${fmt(f.redisCommandsPerOp)} | ${f.errors} |`);
  }
  lines.push('', '**Overhead** (OneDoor total CPU per operation ÷ bare oidc-provider, same flow; bare uses no database):', '');
  lines.push('| flow | profile | OneDoor process ms/op | OneDoor total ms/op | bare ms/op | process ratio | total ratio |', '|---|---|---:|---:|---:|---:|---:|');
  for (const o of r.overhead) lines.push(`| ${o.flow} | ${o.profile} | ${fmt(o.onedoorCpuMs)} | ${fmt(o.onedoorTotalCpuMs)} | ${fmt(o.bareCpuMs)} | ${fmt(o.processRatio)}× | ${fmt(o.ratio)}× |`);
  if (r.seeding.rows) {
    lines.push('', `**Scale** (${fmt(r.settings.accountsLarge)} accounts vs ${fmt(r.settings.accountsSmall)}, each with a passkey and a grant; medians of ${r.settings.repeat} run(s) per flow, lowest–highest in brackets):`, '');
    if (r.bufferPool) lines.push(`MariaDB buffer pool: ${fmt(r.bufferPool.duringMiB)} MiB during the runs (seeded data and indexes ${fmt(r.bufferPool.dataMiB)} MiB; ${fmt(r.bufferPool.beforeMiB)} MiB before and after).`, '');
    lines.push('| flow | profile | p99 ms small | p99 ms large | p99 ratio | total CPU ms/op small | large | CPU ratio |', '|---|---|---:|---:|---:|---:|---:|---:|');
    const range = (x: [number, number]) => (x[0] === x[1] ? '' : ` (${fmt(x[0])}–${fmt(x[1])})`);
    for (const s of r.scale) lines.push(`| ${s.flow} | ${s.profile} | ${fmt(s.p99Small)}${range(s.p99SmallRange)} | ${fmt(s.p99Large)}${range(s.p99LargeRange)} | ${fmt(s.p99Ratio)}× | ${fmt(s.cpuSmall)} | ${fmt(s.cpuLarge)} | ${fmt(s.cpuRatio)}× |`);
    lines.push('', `Seeding: ${fmt(r.seeding.rows)} rows (${fmt(r.seeding.accounts)} accounts with passkeys and grants) in ${fmt(r.seeding.seconds)} s (${fmt(r.seeding.rowsPerSecond)} rows/s).`, '');
    lines.push(`Memory (server RSS after a full GC): ${fmt(r.memory.restMiB)} MiB at rest (heap ${fmt(r.memory.restHeapMiB)} MiB); ` +
      `${fmt(r.memory.afterSessionsMiB)} MiB (heap ${fmt(r.memory.afterSessionsHeapMiB)} MiB) with ${fmt(r.memory.sessions)} sessions created.`, '');
  } else {
    lines.push('', 'Flows only: no scale or memory run (`--flows-only`).', '');
  }
  lines.push('**Crypto ceiling** (one core, node:crypto; @simplewebauthn/server for the assertion):', '');
  lines.push('| operation | per second |', '|---|---:|');
  for (const c of r.ceiling) lines.push(`| ${c.operation} | ${fmt(c.perSecond)} |`);
  lines.push('', `**Goals** (total CPU, profile ${r.profiles[r.profiles.length - 1] ?? ''}):`, '');
  lines.push('| goal | target | measured | met |', '|---|---|---|---|');
  for (const g of r.goals) lines.push(`| ${g.what} | ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`);
  return `${lines.join('\n')}\n`;
}
