import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The real process (`node --import tsx src/main.ts`, as `npm start` runs it) with a bad setting:
 * it stops with one line naming the variable, never a stack trace, and changes nothing.
 */
function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-start-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: process.cwd(),
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, KEYS_DIR: path.join(dir, 'keys'), OUTBOX_DIR: path.join(dir, 'outbox'), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => { fs.rmSync(dir, { recursive: true, force: true }); resolve({ code, stderr }); });
  });
}

test.concurrent.each([
  ['PORT', { PORT: 'abc' }],
  ['DATABASE_URL', { DATABASE_URL: 'postgres://db/onedoor' }],
  ['SESSION_IDLE_SECONDS', { SESSION_IDLE_SECONDS: '-5' }],
])('when %s is not valid, then OneDoor stops with one line naming it and no stack trace', async (name, env) => {
  const { code, stderr } = await start(env);
  expect(code).toBe(1);
  // oidc-provider's own notice about Node 20 may come first; everything else is the one line.
  const lines = stderr.split('\n').filter((l) => l.trim() && !l.includes('oidc-provider WARNING'));
  expect(lines).toEqual([expect.stringMatching(new RegExp(`^OneDoor cannot start: ${name}: `))]);
  expect(stderr).not.toMatch(/\n\s+at /);
});
