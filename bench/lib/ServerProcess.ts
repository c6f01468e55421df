import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import inspector from 'node:inspector';
import net from 'node:net';
import path from 'node:path';
import { projectRoot } from '../../src/shared/paths.js';

/** CPU and memory of the server process, read by the server itself (process.cpuUsage()). */
export interface ServerStats {
  cpuMicros: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** SQL statements the server has sent so far (OneDoor only; bare oidc-provider has no database). */
  statements?: number;
  /** Handles keeping the event loop alive (sockets, timers, servers): a leak shows as growth. */
  activeHandles: number;
}

/** A server under test in its own process, so that its CPU and memory are its own. */
export interface ServerProcess {
  url: string;
  stats(opts?: { gc?: boolean }): Promise<ServerStats>;
  profile(action: 'start' | 'stop', file?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/**
 * Starts `bench/servers/<entry>.ts` under tsx with an IPC channel. The child answers
 * `{ type: 'stats' }` with its own cpuUsage/memoryUsage (after a full GC when asked, so that
 * resident memory is read at rest rather than mid-collection). Its stdout (logs) goes to
 * `logFile`. `profile()` starts V8's CPU profiler in the child (what `node --cpu-prof` uses)
 * and, when called again with `stop`, writes the .cpuprofile of just that window: one flow's
 * measured seconds, without start-up or set-up (open it in Chrome DevTools).
 */
export async function startServerProcess(opts: { entry: string; env: Record<string, string>; logFile: string }): Promise<ServerProcess> {
  const log = fs.openSync(opts.logFile, 'a');
  const child: ChildProcess = fork(path.join(projectRoot, 'bench', 'servers', `${opts.entry}.ts`), [], {
    cwd: projectRoot,
    env: { ...process.env, ...opts.env },
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', log, log, 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, (m: ServerStats) => void>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.entry} did not start in 60 s (see ${opts.logFile})`)), 60_000);
    child.on('message', (m: { type: string; url?: string; id?: number } & ServerStats) => {
      if (m.type === 'ready') { clearTimeout(timer); resolve(m.url!); }
      if (m.type === 'stats' || m.type === 'profile') { waiting.get(m.id!)?.(m); waiting.delete(m.id!); }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`${opts.entry} exited with ${code} (see ${opts.logFile})`)); });
  });
  fs.closeSync(log);

  return {
    url,
    stats({ gc = false } = {}) {
      const id = (nextId += 1);
      return new Promise<ServerStats>((resolve) => {
        waiting.set(id, resolve);
        child.send({ type: 'stats', id, gc });
      });
    },
    profile(action, file) {
      const id = (nextId += 1);
      return new Promise<void>((resolve) => {
        waiting.set(id, () => resolve());
        child.send({ type: 'profile', id, action, file });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child's half: answers stats requests over IPC. Call once the server listens. */
export function serveStats(url: string, opts: { statements?: () => number } = {}): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  const session = new inspector.Session();
  process.on('message', (m: { type: string; id: number; gc?: boolean; action?: 'start' | 'stop'; file?: string }) => {
    if (m.type === 'profile') {
      if (m.action === 'start') {
        session.connect();
        session.post('Profiler.enable', () => session.post('Profiler.start', () => process.send!({ type: 'profile', id: m.id })));
      } else {
        session.post('Profiler.stop', (err, result) => {
          if (!err && m.file) fs.writeFileSync(m.file, JSON.stringify(result.profile));
          session.disconnect();
          process.send!({ type: 'profile', id: m.id });
        });
      }
      return;
    }
    if (m.type !== 'stats') return;
    if (m.gc && gc) { gc(); gc(); }
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const activeHandles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    process.send!({ type: 'stats', id: m.id, cpuMicros: cpu.user + cpu.system, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, activeHandles, ...(opts.statements ? { statements: opts.statements() } : {}) });
  });
  process.send!({ type: 'ready', url });
  // The bench stops servers with SIGTERM; leave at once (nothing to drain in a benchmark).
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}
