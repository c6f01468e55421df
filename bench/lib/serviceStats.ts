import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/**
 * What the servers OneDoor talks to did over a window: their CPU (read from /proc, so it
 * counts only when they run on this machine), the statements MariaDB answered (`Questions`)
 * and the commands Redis ran (`INFO commandstats`). Both counters are server-wide: run the
 * bench on a machine where nothing else uses them.
 */
export interface ServiceSnapshot {
  /** CPU (user + system) of every mariadbd/mysqld/redis-server process, in milliseconds. */
  cpuMs: number;
  statements: number;
  redisCommands: number;
}

export interface ServiceProbe {
  read(): Promise<ServiceSnapshot>;
  /** Statements and commands the probe's own reads add to a window (subtracted by `perOp`). */
  readonly ownStatements: number;
  readonly ownRedisCommands: number;
  close(): Promise<void>;
}

export const DATABASE_SERVERS = ['mariadbd', 'mysqld'];
export const CACHE_SERVERS = ['redis-server'];

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try { ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { ticksPerSecond = 100; }
  }
  return ticksPerSecond;
}

/** The pids of the processes named `names` running on this machine (none elsewhere). */
export function servicePids(names: string[]): number[] {
  const wanted = new Set(names);
  let entries: string[];
  try { entries = fs.readdirSync('/proc'); } catch { return []; }
  return entries.filter((e) => /^\d+$/.test(e)).filter((pid) => {
    try { return wanted.has(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()); } catch { return false; }
  }).map(Number);
}

/** utime + stime of one process (proc(5): fields 14 and 15, counted after the `(comm)` field). */
function cpuTicksOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Sum of `calls=` over every command in `INFO commandstats`, less the INFO calls themselves. */
export function parseCommandStats(info: string): number {
  let calls = 0;
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m && m[1] !== 'info') calls += Number(m[2]);
  }
  return calls;
}

/**
 * A probe over the services the profile uses: `admin` (a MySQL/MariaDB connection, or
 * undefined for SQLite, which runs inside OneDoor's process and whose statements the server
 * counts itself) and `redis`. Only those servers' CPU is read.
 */
export function serviceProbe(opts: { admin?: DataSource; redis?: Redis }): ServiceProbe {
  const pids = servicePids([...(opts.admin ? DATABASE_SERVERS : []), ...(opts.redis ? CACHE_SERVERS : [])]);
  const tick = 1000 / clockTicks();
  return {
    ownStatements: opts.admin ? 1 : 0,
    ownRedisCommands: 0,
    async read() {
      const [statements, redisCommands] = await Promise.all([
        opts.admin
          ? opts.admin.query(`SHOW GLOBAL STATUS LIKE 'Questions'`).then((rows: Array<Record<string, string>>) => Number(rows[0]?.['Value'] ?? rows[0]?.['VALUE'] ?? 0))
          : Promise.resolve(0),
        opts.redis ? opts.redis.info('commandstats').then(parseCommandStats) : Promise.resolve(0),
      ]);
      return { cpuMs: pids.reduce((sum, pid) => sum + cpuTicksOf(pid), 0) * tick, statements, redisCommands };
    },
    async close() {
      if (opts.admin?.isInitialized) await opts.admin.destroy();
      if (opts.redis) await opts.redis.quit();
    },
  };
}
