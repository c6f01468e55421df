import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { OidcClient } from '../../entities/index.js';
import { createTestDb, type TestDb } from './db.js';

/**
 * The real OneDoor process (src/main.ts through tsx, as `npm start` runs it) on a fresh test database,
 * a free port and its own keys and outbox, with everything it writes to stdout and stderr kept
 * line by line. Has what the flows in flows.ts and proofingFlow.ts use from a TestServer.
 */
export interface SpawnedServer {
  url: string;
  outboxDir: string;
  keysDir: string;
  db: TestDb;
  ds: DataSource;
  /** Every stdout line so far (pino JSON, plus the one plain "running at" line). */
  lines: string[];
  stderr: string[];
  addClient(metadata: Record<string, unknown>): Promise<void>;
  /** Resolves with the first stdout line matching `pattern` (already written or still to come). */
  waitForLine(pattern: RegExp): Promise<string>;
  kill(signal: NodeJS.Signals): void;
  /** The exit code once the process has ended. */
  exited: Promise<number | null>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function spawnServer(opts: { env?: Record<string, string> } = {}): Promise<SpawnedServer> {
  const db = await createTestDb();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-proc-'));
  const outboxDir = path.join(dir, 'outbox');
  const keysDir = path.join(dir, 'keys');
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const root = process.cwd();
  // `node --import tsx` rather than the tsx command, which runs OneDoor in a second process and
  // relays signals to it: the signals a test sends must reach OneDoor itself.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '', HOME: dir, NODE_ENV: 'test',
      PORT: String(port), ISSUER: url, DATABASE_URL: db.url, KEYS_DIR: keysDir, OUTBOX_DIR: outboxDir,
      RATE_LIMIT_MULTIPLIER: '100', ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    rest += chunk;
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) if (w.pattern.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr.push(chunk); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const waitForLine = (pattern: RegExp) => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      waiters.push({ pattern, resolve });
      void exited.then((code) => reject(new Error(`OneDoor exited (${code}) before writing ${pattern}: ${stderr.join('')}`)));
    });
  };
  await waitForLine(/OneDoor is running at/);

  return {
    url, outboxDir, keysDir, db, ds: db.ds, lines, stderr, waitForLine, exited,
    async addClient(metadata) {
      const now = new Date();
      await db.ds.getRepository(OidcClient).save({ clientId: String(metadata['client_id'] ?? randomUUID()), metadata: JSON.stringify(metadata), createdAt: now, updatedAt: now });
    },
    kill(signal) { child.kill(signal); },
    async close() {
      if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
