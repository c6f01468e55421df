import type { ServerProcess, ServerStats } from './ServerProcess.js';
import type { ServiceProbe, ServiceSnapshot } from './serviceStats.js';

/** `memory`: bare oidc-provider (in-memory storage); the others name OneDoor's stores. */
export type Profile = 'memory' | 'sqlite' | 'sqlite+redis' | 'mysql' | 'mysql+redis';

/** What one flow measured: throughput, latency percentiles and the server's own CPU cost. */
export interface FlowResult {
  flow: string;
  target: 'onedoor' | 'bare';
  profile: Profile;
  accounts?: number;
  concurrency: number;
  seconds: number;
  iterations: number;
  errors: number;
  firstError?: string;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Server CPU (user + system) per iteration, in milliseconds. */
  cpuMsPerOp: number;
  /** 1 / CPU per iteration: what one fully used core of the server sustains. */
  perCore: number;
  /** CPU of the database and cache servers on this machine per iteration (0 for SQLite, in-process). */
  serviceCpuMsPerOp: number;
  /** OneDoor's process + the services, per iteration. */
  totalCpuMsPerOp: number;
  /** 1 / total CPU per iteration. */
  totalPerCore: number;
  /** SQL statements per iteration (MariaDB `Questions`; on SQLite, counted by the server). */
  statementsPerOp: number;
  /** Redis commands per iteration (`INFO commandstats`). */
  redisCommandsPerOp: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Runs `iteration` in `concurrency` loops: first for `warmupMs` (not recorded: JIT, caches and
 * connection pools settle), then for `durationMs`, recording each iteration's latency. The
 * server's CPU is read over the measured window only. An iteration that throws counts as an
 * error; `next` returning false (a pre-made pool ran dry) ends a loop early.
 */
export async function runLoad(opts: {
  flow: string;
  target: 'onedoor' | 'bare';
  profile: Profile;
  server: ServerProcess;
  /** The services this profile uses (none for bare oidc-provider). */
  probe?: ServiceProbe;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  iteration: (worker: number) => Promise<boolean | void>;
  accounts?: number;
  /** Write the server's CPU profile of the measured window to this file. */
  profileFile?: string;
}): Promise<FlowResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let recording = false;
  let stopAt = Date.now() + opts.warmupMs;

  const loop = async (worker: number) => {
    while (Date.now() < stopAt) {
      const t0 = performance.now();
      try {
        if ((await opts.iteration(worker)) === false) return;
        if (recording) latencies.push(performance.now() - t0);
      } catch (err) {
        if (recording) {
          errors += 1;
          firstError ??= (err as Error).message;
        }
      }
    }
  };

  if (opts.warmupMs > 0) await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => loop(i)));
  if (opts.profileFile) await opts.server.profile('start');
  const none: ServiceSnapshot = { cpuMs: 0, statements: 0, redisCommands: 0 };
  const servicesBefore = opts.probe ? await opts.probe.read() : none;
  const before: ServerStats = await opts.server.stats();
  const started = performance.now();
  recording = true;
  stopAt = Date.now() + opts.durationMs;
  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => loop(i)));
  const seconds = (performance.now() - started) / 1000;
  const after: ServerStats = await opts.server.stats();
  const servicesAfter = opts.probe ? await opts.probe.read() : none;
  recording = false;
  if (opts.profileFile) await opts.server.profile('stop', opts.profileFile);

  latencies.sort((a, b) => a - b);
  const done = latencies.length;
  const cpuMs = (after.cpuMicros - before.cpuMicros) / 1000;
  const cpuMsPerOp = done ? cpuMs / done : 0;
  const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
  const perOp = (n: number) => (done ? n / done : 0);
  const serviceCpuMsPerOp = perOp(servicesAfter.cpuMs - servicesBefore.cpuMs);
  const totalCpuMsPerOp = cpuMsPerOp + serviceCpuMsPerOp;
  // The probe's own reads (one SHOW STATUS between the two snapshots) are not the flow's.
  const statements = opts.probe && opts.probe.ownStatements
    ? servicesAfter.statements - servicesBefore.statements - opts.probe.ownStatements
    : (after.statements ?? 0) - (before.statements ?? 0);
  return {
    flow: opts.flow,
    target: opts.target,
    profile: opts.profile,
    ...(opts.accounts !== undefined ? { accounts: opts.accounts } : {}),
    concurrency: opts.concurrency,
    seconds: round(seconds),
    iterations: done,
    errors,
    ...(firstError ? { firstError } : {}),
    rps: round(done / seconds, 1),
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    cpuMsPerOp: round(cpuMsPerOp, 3),
    perCore: cpuMsPerOp ? Math.round(1000 / cpuMsPerOp) : 0,
    serviceCpuMsPerOp: round(serviceCpuMsPerOp, 3),
    totalCpuMsPerOp: round(totalCpuMsPerOp, 3),
    totalPerCore: totalCpuMsPerOp ? Math.round(1000 / totalCpuMsPerOp) : 0,
    statementsPerOp: round(perOp(Math.max(0, statements)), 1),
    redisCommandsPerOp: round(perOp(Math.max(0, servicesAfter.redisCommands - servicesBefore.redisCommands - (opts.probe?.ownRedisCommands ?? 0))), 1),
  };
}
