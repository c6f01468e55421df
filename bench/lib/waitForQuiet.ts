import os from 'node:os';

/** The machine's CPU use (all cores, 0–1) over `ms`, from the kernel's per-core counters. */
async function busyFraction(ms: number): Promise<number> {
  const total = () => os.cpus().reduce((acc, c) => {
    const t = c.times;
    return { busy: acc.busy + t.user + t.nice + t.sys + t.irq, all: acc.all + t.user + t.nice + t.sys + t.irq + t.idle };
  }, { busy: 0, all: 0 });
  const a = total();
  await new Promise((r) => setTimeout(r, ms));
  const b = total();
  const all = b.all - a.all;
  return all > 0 ? (b.busy - a.busy) / all : 0;
}

/**
 * Waits until the machine is quiet (below `threshold` CPU use over 2 s), or `maxSeconds` have
 * passed. Run after seeding a million accounts: if the database were still writing them out
 * (dirty pages, secondary indexes), its CPU would be charged to the flows measured next. On this
 * machine it was already quiet after one 2 s reading; the guard is for slower disks and larger
 * seeds. Returns how long it waited and the last reading.
 */
export async function waitForQuiet(opts: { threshold?: number; maxSeconds?: number } = {}): Promise<{ seconds: number; busy: number }> {
  const threshold = opts.threshold ?? 0.1;
  const started = Date.now();
  let busy = 1;
  while (Date.now() - started < (opts.maxSeconds ?? 180) * 1000) {
    busy = await busyFraction(2000);
    if (busy < threshold) break;
  }
  return { seconds: Math.round((Date.now() - started) / 1000), busy: Math.round(busy * 100) / 100 };
}
