import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import ts from 'typescript';
import { registerAgency } from '../support/agency.js';
import { chooseAndRedeem, delegateTo, delegationDepsFor, newPerson } from '../support/delegationFlow.js';
import { finishAtAgency, signUp } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { approveOnPage, phoneLinkMailedTo, phoneMailCount, startAgencySite } from '../support/phoneAgency.js';
import { runCli } from '../support/runCli.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { spawnServer } from '../support/spawnServer.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { parseRepresentation } from '../../src/delegation/representationInput.js';
import { signSecurityEvent } from '../../src/oidc/deliverSecurityEvents.js';
import { BACKUP_COMMANDS, RESTORE_COMMANDS } from '../support/backupCommands.js';

/**
 * Every code sample in README.md and docs/ is run (or, for an output, compared with what
 * OneDoor really produces) by this file. A fenced block names how it is checked after its
 * language (```ts openid-client): a block without a known check fails the test, so no sample
 * can be added without one. Links between the documents must land on a heading that exists.
 */
const ROOT = process.cwd();
const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const ISSUER_IN_DOCS = 'https://onedoor.example.gov';
const execFileAsync = promisify(execFile);

interface Block { file: string; line: number; lang: string; check: string; text: string }

function blocksOf(file: string): Block[] {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^```(\S*)\s*(\S*)/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    out.push({ file, line: i + 1, lang: open[1]!, check: open[2]!, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

const BLOCKS = DOCS.flatMap(blocksOf);
const withCheck = (check: string) => BLOCKS.filter((b) => b.check === check);

const CHECKS = ['commands', 'onedoor', 'client-file', 'client-file-fragment', 'claims-parameter', 'delegated-session', 'token-exchange', 'security-event', 'verify-security-event', 'native-app', 'openid-client', 'log-line', 'ciba', 'representation-record', 'backup-restore'];

test('when the docs hold a code sample, then it names one of the checks this file runs', () => {
  expect(BLOCKS.length).toBeGreaterThan(10);
  expect(BLOCKS.filter((b) => !CHECKS.includes(b.check)).map((b) => `${b.file}:${b.line} (${b.lang} ${b.check})`)).toEqual([]);
});

test('when the docs show a legal-authority record, then OneDoor\'s validator accepts it as written', () => {
  const records = withCheck('representation-record');
  expect(records.length).toBeGreaterThanOrEqual(2);
  for (const b of records) {
    const { client_assertion_type: _t, client_assertion: _a, recorded_by: _r, ...record } = JSON.parse(b.text) as Record<string, unknown>;
    const agencies = (record['agencies'] as string[]).filter((a) => a !== '*');
    expect({ sample: `${b.file}:${b.line}`, result: parseRepresentation(record, { agencies, now: new Date('2026-12-01T00:00:00Z') }) }).toMatchObject({ sample: `${b.file}:${b.line}`, result: { ok: true } });
  }
});

test('when the docs link to each other, then every link lands on a file and heading that exist', () => {
  const slug = (h: string) => h.trim().toLowerCase().replace(/[`*_]/g, '').replace(/[^\w\- ]/g, '').replace(/ /g, '-');
  const headings = new Map(DOCS.map((f) => [f, new Set(fs.readFileSync(path.join(ROOT, f), 'utf8').replace(/```[\s\S]*?```/g, '').split('\n').filter((l) => /^#+ /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))))]));
  const broken: string[] = [];
  for (const file of DOCS) {
    for (const [, target] of fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [p, anchor] = target!.split('#') as [string, string | undefined];
      const to = p ? path.normalize(path.join(path.dirname(file), p)) : file;
      if (!fs.existsSync(path.join(ROOT, to))) { broken.push(`${file}: ${target}`); continue; }
      if (anchor && !headings.get(to)?.has(anchor)) broken.push(`${file}: ${target}`);
    }
  }
  expect(broken).toEqual([]);
});

test('when a sample shows commands, then each npm script, bench option and setting it uses exists', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const bench = fs.readFileSync(path.join(ROOT, 'bench/run.ts'), 'utf8');
  const problems: string[] = [];
  for (const b of withCheck('commands')) {
    for (const raw of b.text.split('\n')) {
      for (const command of raw.replace(/#.*$/, '').split('&&').map((c) => c.trim()).filter(Boolean)) {
        const words = command.split(/\s+/);
        const env: Record<string, string> = {};
        while (/^[A-Z_]+=/.test(words[0] ?? '')) { const [k, ...v] = words.shift()!.split('='); env[k!] = v.join('='); }
        if (Object.keys(env).length) {
          try { loadConfig({ ...env }, { warn: () => {} }); } catch (err) { problems.push(`${b.file}:${b.line} ${command}: ${(err as Error).message}`); }
        }
        if (words[0] === 'docker-compose') { if (!fs.existsSync(path.join(ROOT, 'docker-compose.yml'))) problems.push(`${command}: no docker-compose.yml`); continue; }
        if (words[0] !== 'npm') { problems.push(`${b.file}:${b.line} ${command}: not an npm or docker-compose command`); continue; }
        const script = words[1] === 'run' ? words[2]! : words[1]!;
        if (script !== 'install' && !pkg.scripts[script]) problems.push(`${b.file}:${b.line} ${command}: no npm script ${script}`);
        if (script === 'fuzz') {
          const fuzz = fs.readFileSync(path.join(ROOT, 'tests/fuzz/runFuzz.ts'), 'utf8');
          for (const flag of words.filter((w) => w.startsWith('--') && w !== '--')) {
            if (!fuzz.includes(`flag === '${flag}'`)) problems.push(`${b.file}:${b.line} ${command}: fuzz has no option ${flag}`);
          }
          const targets = fs.readdirSync(path.join(ROOT, 'tests/fuzz/targets')).map((f) => fs.readFileSync(path.join(ROOT, 'tests/fuzz/targets', f), 'utf8')).join('\n');
          words.forEach((w, i) => { if (w === '--target' && !targets.includes(`name: '${words[i + 1]}'`)) problems.push(`${b.file}:${b.line} ${command}: no fuzz target ${words[i + 1]}`); });
        }
        if (script === 'bench') {
          for (const flag of words.filter((w) => w.startsWith('--') && w !== '--')) {
            if (!new RegExp(`['"]?${flag.slice(2)}['"]?\\s*:\\s*\\{\\s*type`).test(bench)) problems.push(`${b.file}:${b.line} ${command}: bench has no option ${flag}`);
          }
        }
      }
    }
  }
  expect(problems).toEqual([]);
});

test('when the docs show the backup and restore commands, then they are exactly the ones the restore drill runs', () => {
  const blocks = withCheck('backup-restore');
  expect(blocks.length).toBeGreaterThan(0);
  for (const b of blocks) {
    const lines = b.text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual([...BACKUP_COMMANDS, ...RESTORE_COMMANDS]);
  }
});

describe('against a running OneDoor', () => {
  let server: TestServer;
  let privateKey: CryptoKey;
  const jwks = async (key: CryptoKey) => ({ keys: [{ ...(await jose.exportJWK(key)), kid: 'agency-1', alg: 'ES256', use: 'sig' }] });
  const clientFile = () => JSON.parse(withCheck('client-file')[0]!.text) as Record<string, unknown>;

  beforeAll(async () => {
    server = await startTestServer();
    const pair = await jose.generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    // The first client file of the docs, with this test's public key in place of the sample's.
    await server.addClient({ ...clientFile(), jwks: await jwks(pair.publicKey), grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'], max_ial: 2, delegation_enabled: true });
    await registerAgency(server, { clientId: 'benefits-api' });
  });
  afterAll(async () => { await server.close(); });

  /** A new person signs up through the authorization URL and the browser is sent back: that URL. */
  const browserReturns = async (url: URL | string) => (await signUp({ server, authenticator: new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }), authUrl: url.toString(), email: `docs-${randomUUID().slice(0, 8)}@example.com` })).landing;

  /** Runs a TypeScript sample as written, with OneDoor's address for the sample's and the names it leaves to the reader supplied. */
  async function runSample(text: string, given: Record<string, unknown>): Promise<Record<string, unknown>> {
    let code = text.replaceAll(ISSUER_IN_DOCS, server.url).replace(/^import .*$/gm, '');
    // The comment standing for "the person signs in" becomes that sign-in.
    code = code.replace(/^\/\/ … .*$/m, code.includes('callbackUrl') ? 'const callbackUrl = new URL(await browserReturns(url));' : 'const returnedUrl = await browserReturns(url);');
    const js = ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
    const declared = new Set([...js.matchAll(/(?:const|let|var)\s+(?:\{([^}]*)\}|(\w+))/g)].flatMap((m) => (m[1] ? m[1].split(',').map((n) => n.split(':').pop()!.trim()) : [m[2]!])));
    const supplied = Object.entries({ ...given, browserReturns }).filter(([name]) => !declared.has(name));
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<Record<string, unknown>>;
    const names = [...declared].filter((n) => /^\w+$/.test(n));
    const run = new AsyncFunction(...supplied.map(([n]) => n), `${js}\nreturn { ${names.join(', ')} };`);
    return run(...supplied.map(([, v]) => v));
  }

  /** openid-client as an agency uses it, allowed to talk to this test's http://localhost issuer. */
  const oidcForTest = { ...oidc, discovery: (u: URL, id: string, meta?: Partial<oidc.ClientMetadata>, auth?: oidc.ClientAuth, opts?: oidc.DiscoveryRequestOptions) => oidc.discovery(u, id, meta, auth, { ...opts, execute: [oidc.allowInsecureRequests] }) };

  test('when the openid-client example runs, then it signs a person in and reads userinfo', async () => {
    const [sample] = withCheck('openid-client');
    const out = await runSample(sample!.text, { oidc: oidcForTest, privateKey, state: oidc.randomState(), nonce: oidc.randomNonce() });
    expect((out['userinfo'] as { email?: string }).email).toMatch(/^docs-/);
  });

  test('when the mobile-app example runs against a native client file from the docs, then the app gets tokens', async () => {
    const file = withCheck('client-file').map((b) => JSON.parse(b.text) as Record<string, unknown>).find((f) => f['application_type'] === 'native')!;
    await server.addClient({ ...file, token_endpoint_auth_method: 'none' });
    const out = await runSample(withCheck('native-app')[0]!.text, { oidc: oidcForTest, state: oidc.randomState(), verifier: oidc.randomPKCECodeVerifier() });
    expect((out['tokens'] as { access_token?: string }).access_token).toEqual(expect.any(String));
  });

  test('when an operator adds each client file of the docs with onedoor clients add, then it is accepted; the fragment fits a client file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-docs-'));
    const onedoor = withCheck('onedoor').flatMap((b) => b.text.split('\n')).find((l) => /clients add \S+\.json$/.test(l.trim()))!;
    for (const [i, b] of withCheck('client-file').entries()) {
      const file = path.join(dir, i === 0 ? onedoor.trim().split(' ').pop()! : `client-${i}.json`);
      // Under a client id of its own, so the agencies the other tests use stay as they are.
      fs.writeFileSync(file, JSON.stringify({ ...(JSON.parse(b.text) as object), client_id: `docs-${i}-${randomUUID().slice(0, 6)}` }));
      const result = await runCli(server, ['clients', 'add', file]);
      expect({ sample: `${b.file}:${b.line}`, code: result.code, stderr: result.stderr.split('\n').filter((l) => !l.includes('does not resolve')).join('') }).toEqual({ sample: `${b.file}:${b.line}`, code: 0, stderr: '' });
    }
    for (const b of withCheck('client-file-fragment')) {
      const fragment = Object.fromEntries(Object.entries(JSON.parse(b.text) as Record<string, unknown>).filter(([k]) => k !== '…'));
      fs.writeFileSync(path.join(dir, 'fragment.json'), JSON.stringify({ ...clientFile(), ...fragment, client_id: `docs-fragment-${randomUUID().slice(0, 6)}` }));
      expect((await runCli(server, ['clients', 'add', path.join(dir, 'fragment.json')])).code).toBe(0);
    }
  });

  test('when the onedoor commands of the docs are compared with onedoor --help, then each is a command with those arguments', async () => {
    const { stdout } = await execFileAsync(process.execPath, ['bin/onedoor.js', '--help'], { cwd: ROOT });
    const usages = stdout.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s{2,}/)[0]!);
    const documented = withCheck('onedoor').flatMap((b) => b.text.split('\n').map((l) => ({ at: `${b.file}:${b.line}`, line: l.replace(/#.*$/, '').trim() }))).filter((d) => d.line);
    const unknown = documented.filter(({ line }) => {
      const usage = line.replace(/^npx onedoor /, '');
      return !usages.some((u) => u === usage || (u.split(' ').slice(0, 2).join(' ') === usage.split(' ').slice(0, 2).join(' ') && usage.split(' ').length <= u.split(' ').length + 1 && usages.includes(u)));
    });
    expect(unknown).toEqual([]);
  });

  test('when a verified person is asked for the verified_claims of the docs\' claims parameter, then userinfo releases them with their verification', async () => {
    const agency = await registerAgency(server, { clientId: `docs-ida-${randomUUID().slice(0, 6)}`, extra: { max_ial: 2 } });
    const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const first = await agency.authorize();
    const { agent } = await signUp({ server, authenticator, authUrl: first.url, email: `ida-${randomUUID().slice(0, 8)}@example.com` });
    await verifyIdentity({ server, agent, authenticator });
    const claims = JSON.stringify(JSON.parse(withCheck('claims-parameter')[0]!.text));
    const auth = await agency.authorize({ acr_values: 'urn:acr.login.gov:verified', scope: 'openid profile', claims });
    const tokens = await agency.redeem(await finishAtAgency(agent, server, auth.url), auth);
    const info = await oidc.fetchUserInfo(agency.config, tokens.access_token, tokens.claims()!.sub);
    expect(info['verified_claims']).toMatchObject({ verification: { trust_framework: 'nist_800_63A' }, claims: { given_name: 'JANE', birthdate: '1985-04-12' } });
  });

  test('when a helper signs in for someone, then the ID token has the claims the docs show, and the token-exchange curl sample works with its access token', async () => {
    const agency = await registerAgency(server, { clientId: `docs-helpers-${randomUUID().slice(0, 6)}`, extra: { delegation_enabled: true } });
    const deps = delegationDepsFor(server);
    const principal = await newPerson(server, agency);
    const helper = await newPerson(server, agency);
    const delegation = await delegateTo(deps, server, { principal, helper, scopes: ['email'] });
    const { tokens } = await chooseAndRedeem(server, { helper, agency, choice: delegation.id, params: { scope: 'openid email' } });
    const sample = JSON.parse(withCheck('delegated-session')[0]!.text) as Record<string, Record<string, unknown>>;
    const real = tokens.claims() as unknown as Record<string, Record<string, unknown>>;
    for (const key of Object.keys(sample)) expect(real).toHaveProperty(key);
    expect(Object.keys(real['act']!).sort()).toEqual(Object.keys(sample['act']!).sort());
    expect(Object.keys(real['delegation']!).sort()).toEqual(Object.keys(sample['delegation']!).sort());

    // The curl sample, as written, with an access token benefits-agency holds and its assertion.
    const own = await runSample(withCheck('openid-client')[0]!.text, { oidc: oidcForTest, privateKey, state: oidc.randomState(), nonce: oidc.randomNonce() });
    const tokenEndpoint = `${server.url}/token`;
    const assertion = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'agency-1' }).setIssuer('benefits-agency').setSubject('benefits-agency')
      .setAudience(tokenEndpoint).setJti(randomUUID()).setIssuedAt().setExpirationTime('2m').sign(privateKey);
    const script = withCheck('token-exchange')[0]!.text.replaceAll(ISSUER_IN_DOCS, server.url);
    const { stdout } = await execFileAsync('bash', ['-c', `${script} --silent`], { env: { PATH: process.env['PATH'], ACCESS_TOKEN: (own['tokens'] as { access_token: string }).access_token, JWT: assertion } });
    expect(JSON.parse(stdout)).toMatchObject({ access_token: expect.any(String), issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer' });
  });

  test('when the phone-channel example runs with the docs\' client file, then a verified caller who approves on their device is confirmed to the agency', async () => {
    const site = await startAgencySite();
    try {
      const { d: _secret, ...publicJwk } = await jose.exportJWK(privateKey);
      site.publish({ ...publicJwk, kid: 'agency-1', alg: 'ES256', use: 'sig' });
      const file = withCheck('client-file').map((b) => JSON.parse(b.text) as Record<string, unknown>).find((f) => f['client_id'] === 'benefits-phone')!;
      // Added as an operator adds it (onedoor clients add fills in what a phone-only client leaves out).
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-docs-'));
      fs.writeFileSync(path.join(dir, 'benefits-phone.json'), JSON.stringify({ ...file, jwks_uri: `${site.origin}/jwks.json` }));
      expect((await runCli(server, ['clients', 'add', path.join(dir, 'benefits-phone.json')])).code).toBe(0);
      const web = await registerAgency(server, { clientId: `docs-web-${randomUUID().slice(0, 6)}`, extra: { max_ial: 2 } });
      const caller = await newPerson(server, web);
      await verifyIdentity({ server, agent: caller.agent, authenticator: caller.authenticator });
      const seen = phoneMailCount(server.outboxDir, caller.email);
      // An OAuth error from the sample is shown with its code (openid-client's message says only "error in the response body").
      const running = runSample(withCheck('ciba')[0]!.text, { oidc: oidcForTest, privateKey, callerEmail: caller.email })
        .catch((e: { error?: string; error_description?: string }) => { throw new Error(`${e.error}: ${e.error_description}`); });
      running.catch(() => {});
      const { url } = await Promise.race([phoneLinkMailedTo(server.outboxDir, caller.email, seen), running.then(() => { throw new Error('the sample ended before the person answered'); })]);
      expect((await approveOnPage(caller.agent, caller.authenticator, url)).status).toBeLessThan(400);
      const out = await running;
      expect(out['caller']).toMatchObject({ acr: expect.any(String), amr: expect.any(Array), auth_time: expect.any(Number) });
      expect((out['info'] as { email?: string }).email).toBe(caller.email);
    } finally {
      await site.close();
    }
  });

  test('when OneDoor signs a security event, then it has the header and claims the docs show, and the docs\' jose snippet verifies it', async () => {
    const token = await signSecurityEvent({
      keys: server.keys, issuer: server.url, clientId: 'benefits-agency', subject: 'pairwise-subject',
      delivery: { id: randomUUID(), eventType: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled', details: '{}', eventAt: new Date() },
    });
    const [headerLine, ...claimLines] = withCheck('security-event')[0]!.text.split('\n');
    const header = JSON.parse(headerLine!) as Record<string, unknown>;
    const claims = JSON.parse(claimLines.join('\n')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(jose.decodeProtectedHeader(token)).sort()).toEqual(Object.keys(header).sort());
    const real = jose.decodeJwt(token) as Record<string, Record<string, unknown>>;
    expect(Object.keys(real).sort()).toEqual(Object.keys(claims).sort());
    expect(Object.keys(real['sub_id']!).sort()).toEqual(Object.keys(claims['sub_id']!).sort());
    const out = await runSample(withCheck('verify-security-event')[0]!.text, { body: token, jwtVerify: jose.jwtVerify, createRemoteJWKSet: jose.createRemoteJWKSet });
    expect((out['payload'] as { events: object }).events).toHaveProperty(['https://schemas.openid.net/secevent/risc/event-type/account-disabled']);
  });

  test('when the real process answers a request, then its access log line has the fields the docs show', async () => {
    const process = await spawnServer();
    try {
      await fetch(`${process.url}/.well-known/openid-configuration`);
      const line = await process.waitForLine(/"msg":"request"/);
      const sample = JSON.parse(withCheck('log-line')[0]!.text) as Record<string, unknown>;
      expect(Object.keys(JSON.parse(line) as object).sort()).toEqual(Object.keys(sample).sort());
    } finally {
      await process.close();
    }
  });
});
