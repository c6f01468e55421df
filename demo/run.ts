/**
 * `npm run demo`: OneDoor plus a sample agency site, registered as a private_key_jwt client.
 *
 * 1. Creates the agency's ES256 key pair once (DEMO_DIR/private-key.jwk.json) and writes its
 *    client files for the current ports: DEMO_DIR/client.json (sign-in) and
 *    DEMO_DIR/phone-client.json (the Phone agent page's phone channel, CIBA).
 * 2. Registers the clients with OneDoor through the operator command, as an operator would:
 *    `onedoor migrate`, then `onedoor clients add DEMO_DIR/<file> --replace`.
 * 3. Starts OneDoor (`tsx src/main.ts`) and the agency (`tsx demo/agency-main.ts`), waits until
 *    both answer, prints their URLs and prefixes their output. Ctrl-C stops both.
 *
 * Environment: PORT (OneDoor, 3000), AGENCY_PORT (4000), DEMO_DIR (data/demo), and everything
 * OneDoor itself reads (ISSUER, DATABASE_URL, KEYS_DIR, OUTBOX_DIR…), passed through.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { demoClientFile, demoPhoneClientFile } from './demoClientFile.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(ROOT, 'bin', 'onedoor.js');

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535) fail(`${name} must be a port number (1-65535)`);
  return value;
}

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

const PORT = port('PORT', 3000);
const AGENCY_PORT = port('AGENCY_PORT', 4000);
const DEMO_DIR = path.resolve(process.env['DEMO_DIR'] ?? 'data/demo');
const ISSUER = (process.env['ISSUER'] ?? `http://localhost:${PORT}`).replace(/\/+$/, '');
const AGENCY_URL = `http://localhost:${AGENCY_PORT}`;
const KEY_FILE = path.join(DEMO_DIR, 'private-key.jwk.json');
const CLIENT_FILE = path.join(DEMO_DIR, 'client.json');
const PHONE_CLIENT_FILE = path.join(DEMO_DIR, 'phone-client.json');

/** The agency's signing key: made once, kept private (mode 600, under the gitignored data/). */
async function loadOrCreateAgencyKey(): Promise<JWK> {
  if (fs.existsSync(KEY_FILE)) return JSON.parse(fs.readFileSync(KEY_FILE, 'utf8')) as JWK;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: `demo-agency-${new Date().toISOString().slice(0, 10)}`, alg: 'ES256', use: 'sig' };
  fs.mkdirSync(DEMO_DIR, { recursive: true });
  fs.writeFileSync(KEY_FILE, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600 });
  process.stdout.write(`demo: created the agency's signing key in ${path.relative(process.cwd(), KEY_FILE)}\n`);
  return jwk;
}

/** Runs the operator command; its output is shown prefixed. */
function onedoorCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, PORT: String(PORT) }, stdio: ['ignore', 'pipe', 'pipe'] });
    prefixOutput(child, 'onedoor cli');
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`\`onedoor ${args.join(' ')}\` exited with ${code}`))));
  });
}

function prefixOutput(child: ChildProcess, name: string): void {
  const prefix = `[${name}] `;
  for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
    if (stream) readline.createInterface({ input: stream }).on('line', (line) => out.write(`${prefix}${line}\n`));
  }
}

function portIsFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(p, () => probe.close(() => resolve(true)));
  });
}

/** Polls a URL until it answers (any HTTP status) or the process behind it exits. */
async function waitUntilAnswering(url: string, child: ChildProcess, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before it answered`);
    try {
      await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${name} did not answer at ${url} within ${timeoutMs / 1000}s`);
}

const children: Array<{ name: string; child: ChildProcess }> = [];
let stopping = false;

function start(name: string, script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(TSX, [script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  prefixOutput(child, name);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`demo: ${name} stopped (${signal ?? `exit ${code}`}); stopping the demo\n`);
    void stop(1);
  });
  children.push({ name, child });
  return child;
}

/** Stops both processes (SIGTERM, then SIGKILL after 10 s) and exits. */
async function stop(exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (children.length) process.stdout.write('demo: stopping OneDoor and the agency…\n');
  await Promise.all(children.map(({ child }) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  })));
  process.exit(exitCode);
}

async function main(): Promise<void> {
  for (const [name, p] of [['PORT', PORT], ['AGENCY_PORT', AGENCY_PORT]] as const) {
    if (!(await portIsFree(p))) fail(`port ${p} is in use; stop what is running there or set ${name}`);
  }

  const privateJwk = await loadOrCreateAgencyKey();
  const clientFile = demoClientFile({ agencyUrl: AGENCY_URL, publicJwk: privateJwk });
  fs.mkdirSync(DEMO_DIR, { recursive: true });
  fs.writeFileSync(CLIENT_FILE, `${JSON.stringify(clientFile, null, 2)}\n`);
  fs.writeFileSync(PHONE_CLIENT_FILE, `${JSON.stringify(demoPhoneClientFile({ agencyUrl: AGENCY_URL }), null, 2)}\n`);

  await onedoorCli(['migrate']);
  await onedoorCli(['clients', 'add', CLIENT_FILE, '--replace']);
  await onedoorCli(['clients', 'add', PHONE_CLIENT_FILE, '--replace']);

  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const onedoor = start('onedoor', 'src/main.ts', { PORT: String(PORT) });
  await waitUntilAnswering(`${ISSUER}/.well-known/openid-configuration`, onedoor, 'OneDoor');
  const agency = start('agency', 'demo/agency-main.ts', { ONEDOOR_ISSUER: ISSUER, AGENCY_PORT: String(AGENCY_PORT), DEMO_DIR });
  await waitUntilAnswering(`${AGENCY_URL}/`, agency, 'the agency');

  process.stdout.write(`
  OneDoor                ${ISSUER}
  Demo Benefits Agency   ${AGENCY_URL}   <- open this, press "Sign in with OneDoor"
  Phone agent            ${AGENCY_URL}/phone   <- verify a caller by their OneDoor passkey

  Sign-up codes are mailed to the outbox folder (${process.env['OUTBOX_DIR'] ?? 'data/outbox'}).
  Press Ctrl-C to stop both.

`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  void stop(1);
});
