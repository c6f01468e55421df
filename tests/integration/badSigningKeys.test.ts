import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { rotateKeys } from '../../src/oidc/keys.js';
import { rotateKek } from '../../src/proofing/vault.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { badJwksFiles, type BadJwksFile, keyMaterialIn } from '../support/badJwks.js';
import { createTestDb } from '../support/db.js';
import { signUp } from '../support/flows.js';
import { runCli } from '../support/runCli.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import type { TestServer } from '../support/testServer.js';

/**
 * The real process (src/main.ts, as `npm start` runs it) checking KEYS_DIR every second, while
 * an operator's bad jwks.json lands there: the review found that one such file ended every
 * node and printed its private key to stderr.
 */
jest.setTimeout(240_000);

let server: SpawnedServer;
let agency: TestAgency;
let files: BadJwksFile[];
let goodText: string;
let refreshToken: string;
let exitCode: number | null | undefined;

beforeAll(async () => {
  server = await spawnServer({ env: { KEYS_CHECK_SECONDS: '1' } });
  void server.exited.then((code) => { exitCode = code; });
  files = await badJwksFiles();
  goodText = fs.readFileSync(path.join(server.keysDir, 'jwks.json'), 'utf8');
  const asTestServer = server as unknown as TestServer;
  agency = await registerAgency(asTestServer, { clientId: `keys-${randomUUID().slice(0, 6)}` });
  const auth = await agency.authorize({ scope: 'openid email offline_access', prompt: 'consent' });
  const { landing } = await signUp({ server: asTestServer, authenticator: new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }), authUrl: auth.url, email: `k-${randomUUID().slice(0, 8)}@example.com` });
  refreshToken = (await agency.redeem(landing, auth)).refresh_token!;
});
afterAll(async () => { await server.close(); });

const output = () => `${server.lines.join('\n')}\n${server.stderr.join('')}`;
const linesWith = (reason: string) => server.lines.filter((l) => l.includes('signing keys in KEYS_DIR are not usable') && l.includes(`"reason":"${reason}"`));
const publishedKids = async () => ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);

/** Waits (bounded by the test's timeout) for `done`, failing at once if the process has ended. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) {
    if (exitCode !== undefined) throw new Error(`OneDoor exited with ${exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A fresh ID token from the node (refresh grant), verified against the node's published keys. */
async function freshIdTokenKid(): Promise<string> {
  const tokens = await oidc.refreshTokenGrant(agency.config, refreshToken);
  refreshToken = tokens.refresh_token ?? refreshToken;
  await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: agency.clientId });
  return decodeProtectedHeader(tokens.id_token!).kid!;
}

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
}

test('when each kind of bad jwks.json lands in KEYS_DIR, then the node stays up, keeps signing with its keys, says so once in its log, /readyz and metrics, and never prints key material; a good rotation afterwards is picked up', async () => {
  const before = await publishedKids();
  expect(before.length).toBeGreaterThanOrEqual(2);
  expect(before).toContain(await freshIdTokenKid());
  const secrets = files.flatMap((f) => f.secrets);

  for (const file of files) {
    const seen = linesWith(file.reason).length;
    fs.writeFileSync(path.join(server.keysDir, 'jwks.json'), file.text);
    await until(() => linesWith(file.reason).length > seen);
    expect([file.kind, exitCode]).toEqual([file.kind, undefined]);
    const line = JSON.parse(linesWith(file.reason).at(-1)!) as Record<string, unknown>;
    expect([file.kind, line]).toEqual([file.kind, expect.objectContaining({ level: 50, file: 'jwks.json', reason: file.reason, ...(file.index === undefined ? {} : { index: file.index }) })]);

    const ready = await fetch(`${server.url}/readyz`);
    expect([file.kind, ready.status, await ready.json()]).toEqual([file.kind, 200, { status: 'ready', checks: { database: 'ok', keys: 'reload_failed' } }]);
    expect(await metric(`onedoor_signing_keys_reload_failures_total{reason="${file.reason}"}`)).toMatch(/ [1-9]\d*$/);
    expect(await metric('onedoor_signing_keys_reload_failing')).toMatch(/ 1$/m);
    expect(await publishedKids()).toEqual(before);
    expect(before).toContain(await freshIdTokenKid());
    expect([file.kind, keyMaterialIn(output(), secrets)]).toEqual([file.kind, []]);
  }
  // One line per bad file, not one per check.
  expect(server.lines.filter((l) => l.includes('signing keys in KEYS_DIR are not usable'))).toHaveLength(files.length);

  // The operator puts the good file back and rotates.
  fs.writeFileSync(path.join(server.keysDir, 'jwks.json'), goodText);
  const fresh = await rotateKeys(server.keysDir);
  await until(async () => { const kids = await publishedKids(); return fresh.every((kid) => kids.includes(kid)); });
  expect(await publishedKids()).toEqual([...fresh, ...before]);
  expect(fresh).toContain(await freshIdTokenKid());
  expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready', checks: { database: 'ok', keys: 'ok' } });
  expect(await metric('onedoor_signing_keys_reload_failing')).toMatch(/ 0$/m);
  expect(keyMaterialIn(output(), secrets)).toEqual([]);

  // The proofing KEK file is followed the same way: a rotation there is picked up too.
  const kekKid = await rotateKek({ keysDir: server.keysDir });
  await until(() => server.lines.some((l) => l.includes('proofing key-encryption keys reloaded') && l.includes(kekKid)));
  expect(exitCode).toBeUndefined();
});

/** Runs `src/main.ts` to its end (it must refuse to start) and returns its exit code and output. */
function startExpectingRefusal(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env['PATH'], HOME: os.tmpdir(), NODE_ENV: 'test', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a bad jwks.json before anything runs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-badkeys-'));
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  test('when OneDoor starts with a bad jwks.json, then it refuses with one line naming the file and the problem, and no key material', async () => {
    const db = await createTestDb();
    try {
      for (const file of files.filter((f) => ['duplicate_kid', 'incomplete_rsa_key', 'not_json'].includes(f.reason))) {
        const keysDir = path.join(dir, `start-${file.reason}-${randomUUID().slice(0, 4)}`);
        fs.mkdirSync(keysDir, { recursive: true });
        fs.copyFileSync(path.join(server.keysDir, 'cookies.json'), path.join(keysDir, 'cookies.json'));
        fs.copyFileSync(path.join(server.keysDir, 'secrets.json'), path.join(keysDir, 'secrets.json'));
        fs.writeFileSync(path.join(keysDir, 'jwks.json'), file.text);
        const run = await startExpectingRefusal({ DATABASE_URL: db.url, KEYS_DIR: keysDir, OUTBOX_DIR: path.join(dir, 'outbox'), LOG_LEVEL: 'silent' });
        expect([file.kind, run.code]).toEqual([file.kind, 1]);
        // Node's own notice that it is older than oidc-provider would like is not OneDoor's output.
        const lines = run.stderr.split('\n').filter((l) => l && !l.startsWith('oidc-provider WARNING: Unsupported runtime'));
        expect([file.kind, lines]).toEqual([file.kind, [expect.stringMatching(new RegExp(`^OneDoor cannot start: jwks\\.json in KEYS_DIR \\(${path.join(keysDir, 'jwks.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\):`))]]);
        expect([file.kind, keyMaterialIn(run.stdout + run.stderr, file.secrets)]).toEqual([file.kind, []]);
      }
    } finally {
      await db.close();
    }
  });

  test('when an operator runs keys rotate, remove or list on a bad jwks.json, then each refuses with one line and no key material, and the file is left as it was', async () => {
    const file = files.find((f) => f.reason === 'incomplete_rsa_key')!;
    const keysDir = path.join(dir, 'cli');
    fs.mkdirSync(keysDir, { recursive: true });
    for (const name of ['cookies.json', 'secrets.json', 'proofing-kek.json']) fs.copyFileSync(path.join(server.keysDir, name), path.join(keysDir, name));
    fs.writeFileSync(path.join(keysDir, 'jwks.json'), file.text);
    const operator = { db: server.db, config: { keysDir }, url: server.url, outboxDir: path.join(dir, 'outbox') } as unknown as TestServer;
    const kid = (JSON.parse(file.text) as { keys: Array<{ kid: string }> }).keys[0]!.kid;
    for (const args of [['keys', 'rotate'], ['keys', 'remove', kid], ['keys', 'list']]) {
      const run = await runCli(operator, args);
      expect([args, run.code, run.stdout]).toEqual([args, 1, '']);
      expect([args, run.stderr]).toEqual([args, expect.stringMatching(/^onedoor: KEYS_DIR: jwks\.json in KEYS_DIR \([^)]+\): keys\[1\] \(kid "[^"]+"\) is an RSA private key without all of[^\n]+\n$/)]);
      expect([args, keyMaterialIn(run.stdout + run.stderr, file.secrets)]).toEqual([args, []]);
      expect(fs.readFileSync(path.join(keysDir, 'jwks.json'), 'utf8')).toBe(file.text);
    }
  });
});
