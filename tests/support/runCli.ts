import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestServer } from './testServer.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/onedoor.js');

export interface CliResult { code: number | null; stdout: string; stderr: string }

/**
 * Runs the real `onedoor` command (`node bin/onedoor.js …`) as an operator would beside a
 * running server: same database, keys, issuer, outbox (and Redis), in a separate process.
 */
export function runCli(server: TestServer, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'], HOME: process.env['HOME'], DATABASE_URL: server.db.url, KEYS_DIR: server.config.keysDir,
        ISSUER: server.url, OUTBOX_DIR: server.outboxDir, LOG_LEVEL: 'silent',
        // Beside a server on Redis, the operator's command reaches the same Redis (sessions live there).
        ...(server.config.redisUrl ? { REDIS_URL: server.config.redisUrl, REDIS_KEY_PREFIX: server.config.redisKeyPrefix } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
