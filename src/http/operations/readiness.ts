import type { DataSource } from 'typeorm';
import type { KeyMaterial } from '../../oidc/keys.js';

/**
 * One named thing this node needs before it should get traffic. `run` resolves when it is
 * fine and rejects (or takes longer than the timeout) when it is not. Other parts plug their
 * own in through `AppDeps.readinessChecks` (e.g. `{ name: 'redis', run: () => redis.ping() }`).
 */
export interface ReadinessCheck {
  name: string;
  run(): Promise<unknown>;
  /**
   * A state that needs an operator but not taking the node out of the load balancer (it still
   * serves correctly), reported instead of `ok` when `run` passes; e.g. `keys: reload_failed`.
   */
  warning?(): CheckWarning | undefined;
}

/** Warnings a check may report; each one is documented in docs/operators.md (/readyz). */
export type CheckWarning = 'reload_failed';

export interface ReadinessReport {
  status: 'ready' | 'unavailable' | 'draining';
  checks: Record<string, 'ok' | 'failed' | 'timeout' | CheckWarning>;
}

export interface Readiness {
  /** Called on SIGTERM: from now on /readyz answers 503 so the load balancer stops sending. */
  startDraining(): void;
  readonly draining: boolean;
  check(): Promise<ReadinessReport>;
}

const TIMEOUT_MS = 2000;

function withTimeout(run: () => Promise<unknown>, ms: number): Promise<'ok' | 'failed' | 'timeout'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref();
    Promise.resolve().then(run).then(() => 'ok' as const, () => 'failed' as const).then((r) => { clearTimeout(timer); resolve(r); });
  });
}

/**
 * The checks every node has: its database answers a trivial query, its keys are loaded. A
 * jwks.json changed into something unusable is `reload_failed`, not a failure: every node on
 * the shared volume sees the same file, and all of them leaving the load balancer would be an
 * outage, while each still signs with the keys it has.
 */
export function coreReadinessChecks(opts: { ds: DataSource; keys: KeyMaterial }): ReadinessCheck[] {
  return [
    { name: 'database', run: () => opts.ds.query('SELECT 1') },
    {
      name: 'keys',
      run: async () => {
        if (!opts.keys.jwks.keys.length || !opts.keys.cookieKeys.length || !opts.keys.kek) throw new Error('keys missing');
      },
      warning: () => (opts.keys.reloadProblem ? 'reload_failed' : undefined),
    },
  ];
}

/**
 * Readiness of this node: every check passes within a short timeout, and the node is not
 * shutting down. The report names checks and their state only, never an error's text.
 */
export function createReadiness(opts: { checks: ReadinessCheck[]; timeoutMs?: number }): Readiness {
  let draining = false;
  return {
    startDraining() { draining = true; },
    get draining() { return draining; },
    async check() {
      const results = await Promise.all(opts.checks.map(async (c) => [c.name, await withTimeout(() => c.run(), opts.timeoutMs ?? TIMEOUT_MS), c] as const));
      const checks = Object.fromEntries(results.map(([name, r, c]) => [name, r === 'ok' ? c.warning?.() ?? r : r]));
      const status = draining ? 'draining' : results.every(([, r]) => r === 'ok') ? 'ready' : 'unavailable';
      return { status, checks };
    },
  };
}
