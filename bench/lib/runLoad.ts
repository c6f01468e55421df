import type { ServerProcess, ServerStats } from './ServerProcess.js';

/** What one flow measured: throughput, latency percentiles and the server's own CPU cost. */
export interface FlowResult {
  flow: string;
  target: 'onedoor' | 'bare';
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
  server: ServerProcess;
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
  const before: ServerStats = await opts.server.stats();
  const started = performance.now();
  recording = true;
  stopAt = Date.now() + opts.durationMs;
  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => loop(i)));
  const seconds = (performance.now() - started) / 1000;
  const after: ServerStats = await opts.server.stats();
  recording = false;
  if (opts.profileFile) await opts.server.profile('stop', opts.profileFile);

  latencies.sort((a, b) => a - b);
  const done = latencies.length;
  const cpuMs = (after.cpuMicros - before.cpuMicros) / 1000;
  const cpuMsPerOp = done ? cpuMs / done : 0;
  const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
  return {
    flow: opts.flow,
    target: opts.target,
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
  };
}
