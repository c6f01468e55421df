import type { FlowResult } from './runLoad.js';
import type { CeilingResult } from './measureCeiling.js';

export interface Goal {
  what: string;
  goal: string;
  measured: string;
  met: boolean;
}

export interface BenchReport {
  date: string;
  mode: 'full' | 'smoke';
  machine: { cpu: string; cores: number; memoryGiB: number; os: string };
  versions: Record<string, string>;
  database: { type: string; version: string };
  settings: { serverWarmupSeconds: number; warmupSeconds: number; durationSeconds: number; concurrency: number; accountsSmall: number; accountsLarge: number; sessions: number };
  ceiling: CeilingResult[];
  flows: FlowResult[];
  /** OneDoor CPU per operation / bare oidc-provider CPU per operation, per shared flow. */
  overhead: Array<{ flow: string; onedoorCpuMs: number; bareCpuMs: number; ratio: number }>;
  scale: Array<{ flow: string; p99Small: number; p99Large: number; p99Ratio: number; cpuSmall: number; cpuLarge: number; cpuRatio: number }>;
  seeding: { accounts: number; rows: number; seconds: number; rowsPerSecond: number };
  memory: { restMiB: number; restHeapMiB: number; sessions: number; afterSessionsMiB: number; afterSessionsHeapMiB: number };
  goals: Goal[];
}

const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 }));

/** The report as Markdown: what the README's Performance section shows. */
export function toMarkdown(r: BenchReport): string {
  const lines: string[] = [];
  lines.push(`### OneDoor benchmark, ${r.date}${r.mode === 'smoke' ? ' (smoke run: figures are not meaningful)' : ''}`, '');
  lines.push(`Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.os}. ` +
    `Database: ${r.database.type} ${r.database.version}. ` +
    `Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  lines.push(`Each server first signs people in for ${r.settings.serverWarmupSeconds} s, unmeasured, so that V8 has optimized it. Each flow: ${r.settings.warmupSeconds} s warm-up, then ${r.settings.durationSeconds} s at concurrency ${r.settings.concurrency}; ` +
    `load generator on the same machine. **per core** = 1 / (server CPU seconds per operation), read from the server process.`, '');
  lines.push('| flow | server | accounts | ops/s | p50 ms | p95 ms | p99 ms | server CPU ms/op | per core /s | errors |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const f of r.flows) {
    lines.push(`| ${f.flow} | ${f.target === 'bare' ? 'bare oidc-provider' : 'OneDoor'} | ${f.accounts === undefined ? '' : fmt(f.accounts)} | ${fmt(f.rps)} | ${fmt(f.p50Ms)} | ${fmt(f.p95Ms)} | ${fmt(f.p99Ms)} | ${fmt(f.cpuMsPerOp)} | ${fmt(f.perCore)} | ${f.errors} |`);
  }
  lines.push('', '**Overhead** (OneDoor CPU per operation ÷ bare oidc-provider, same flow):', '');
  lines.push('| flow | OneDoor CPU ms/op | bare CPU ms/op | ratio |', '|---|---:|---:|---:|');
  for (const o of r.overhead) lines.push(`| ${o.flow} | ${fmt(o.onedoorCpuMs)} | ${fmt(o.bareCpuMs)} | ${fmt(o.ratio)}× |`);
  lines.push('', `**Scale** (${fmt(r.settings.accountsLarge)} accounts vs ${fmt(r.settings.accountsSmall)}, each with a passkey and a grant):`, '');
  lines.push('| flow | p99 ms small | p99 ms large | p99 ratio | CPU ms/op small | CPU ms/op large | CPU ratio |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const s of r.scale) lines.push(`| ${s.flow} | ${fmt(s.p99Small)} | ${fmt(s.p99Large)} | ${fmt(s.p99Ratio)}× | ${fmt(s.cpuSmall)} | ${fmt(s.cpuLarge)} | ${fmt(s.cpuRatio)}× |`);
  lines.push('', `Seeding: ${fmt(r.seeding.rows)} rows (${fmt(r.seeding.accounts)} accounts with passkeys and grants) in ${fmt(r.seeding.seconds)} s (${fmt(r.seeding.rowsPerSecond)} rows/s).`, '');
  lines.push(`Memory (server RSS after a full GC): ${fmt(r.memory.restMiB)} MiB at rest (heap ${fmt(r.memory.restHeapMiB)} MiB); ` +
    `${fmt(r.memory.afterSessionsMiB)} MiB (heap ${fmt(r.memory.afterSessionsHeapMiB)} MiB) with ${fmt(r.memory.sessions)} sessions created.`, '');
  lines.push('**Crypto ceiling** (one core, node:crypto; @simplewebauthn/server for the assertion):', '');
  lines.push('| operation | per second |', '|---|---:|');
  for (const c of r.ceiling) lines.push(`| ${c.operation} | ${fmt(c.perSecond)} |`);
  lines.push('', '**Goals** (per core):', '');
  lines.push('| goal | target | measured | met |', '|---|---|---|---|');
  for (const g of r.goals) lines.push(`| ${g.what} | ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`);
  return `${lines.join('\n')}\n`;
}
