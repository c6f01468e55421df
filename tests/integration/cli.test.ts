import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { OidcClient } from '../../entities/index.js';
import { createDataSource } from '../../ormconfig.js';
import { parseDatabaseUrl } from '../../src/config/loadConfig.js';
import { loadOrCreateKeys } from '../../src/oidc/keys.js';

/**
 * Runs the real `onedoor` command as an operator would (`node bin/onedoor.js …`), each test in
 * its own SQLite file and KEYS_DIR. Every spawn costs about a second (tsx), so the tests run
 * concurrently and set up what they do not exercise (schema, keys) in-process.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/onedoor.js');
const dirs: string[] = [];

interface Sandbox {
  dir: string;
  run(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  writeFile(name: string, value: unknown): string;
}

async function sandbox({ migrated = true, keys = true, existingClients = [] as Array<{ client_id: string }> } = {}): Promise<Sandbox> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-cli-'));
  dirs.push(dir);
  const databaseUrl = `sqlite:${path.join(dir, 'onedoor.sqlite')}`;
  const keysDir = path.join(dir, 'keys');
  if (migrated) {
    const ds = createDataSource(parseDatabaseUrl(databaseUrl));
    await ds.initialize();
    await ds.runMigrations();
    const now = new Date();
    for (const c of existingClients) await ds.getRepository(OidcClient).insert({ clientId: c.client_id, metadata: JSON.stringify(c), createdAt: now, updatedAt: now });
    await ds.destroy();
  }
  if (keys) await loadOrCreateKeys(keysDir);
  return {
    dir,
    run(args, input) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: ROOT,
          env: { PATH: process.env['PATH'], HOME: process.env['HOME'], DATABASE_URL: databaseUrl, KEYS_DIR: keysDir },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
        child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(input ?? '');
      });
    },
    writeFile(name, value) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, JSON.stringify(value, null, 2));
      return file;
    },
  };
}

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function agencyClient(clientId = 'benefits.agency.gov') {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    client_id: clientId,
    client_name: 'Benefits Agency',
    redirect_uris: [`https://${clientId}/auth/callback`],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] },
    delegation_enabled: true,
    max_ial: 2,
  };
}

const lines = (text: string) => text.trim().split('\n').filter(Boolean);

describe('onedoor command', () => {
  test.concurrent('when a clients command runs before migrate, then it asks for migrate; when migrate runs, then it names what ran', async () => {
    const sb = await sandbox({ migrated: false, keys: false });
    const before = await sb.run(['clients', 'list']);
    expect(before.code).toBe(1);
    expect(lines(before.stderr)).toEqual([expect.stringMatching(/run `npx onedoor migrate` first/)]);

    const migrated = await sb.run(['migrate']);
    expect(migrated).toMatchObject({ code: 0, stderr: '' });
    expect(migrated.stdout).toMatch(/^ran Initial\d+$/m);
  });

  test.concurrent('when a phone-channel (CIBA) client file is added, then it is stored with no redirect URIs; a ping client without its endpoint is refused in one line', async () => {
    const sb = await sandbox();
    const phone = { client_id: 'benefits-phone', client_name: 'Benefits Agency', grant_types: ['urn:openid:params:grant-type:ciba'], jwks_uri: 'https://benefits.agency.gov/.well-known/jwks.json', backchannel_token_delivery_mode: 'poll' };
    const added = await sb.run(['clients', 'add', sb.writeFile('phone.json', phone)]);
    expect(added.code).toBe(0);
    expect(added.stdout).toBe('added client benefits-phone\n');
    const listed = JSON.parse((await sb.run(['clients', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(listed).toEqual([expect.objectContaining({ client_id: 'benefits-phone', response_types: [], backchannel_token_delivery_mode: 'poll' })]);
    const refused = await sb.run(['clients', 'add', sb.writeFile('ping.json', { ...phone, client_id: 'benefits-ping', backchannel_token_delivery_mode: 'ping' })]);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual(['onedoor: backchannel_client_notification_endpoint: is required for ping delivery']);
  });

  test.concurrent('when a good client file is added from stdin, then clients list shows it in the table and as JSON', async () => {
    const sb = await sandbox();
    const client = await agencyClient();
    const added = await sb.run(['clients', 'add', '-'], JSON.stringify(client));
    expect(added).toMatchObject({ code: 0, stdout: 'added client benefits.agency.gov\n', stderr: '' });

    const table = await sb.run(['clients', 'list']);
    expect(table.code).toBe(0);
    const [header, row] = lines(table.stdout);
    expect(header!.split(/\s+/)).toEqual(['CLIENT_ID', 'NAME', 'AUTH_METHOD', 'DELEGATION', 'MAX_IAL', 'REDIRECT_URIS']);
    expect(row!.split(/\s{2,}/)).toEqual(['benefits.agency.gov', 'Benefits Agency', 'private_key_jwt', 'true', '2', 'https://benefits.agency.gov/auth/callback']);

    const json = await sb.run(['clients', 'list', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([{ ...client, grant_types: ['authorization_code'], response_types: ['code'], subject_type: 'pairwise' }]);
  });

  test.concurrent('when a bad client file is added, then it exits 1 with one line naming the field and nothing changes', async () => {
    const sb = await sandbox({ existingClients: [await agencyClient()] });
    const before = await sb.run(['clients', 'list', '--json']);
    expect(JSON.parse(before.stdout)).toHaveLength(1);

    const bad = { ...(await agencyClient('payroll.agency.gov')), redirect_uris: ['http://payroll.agency.gov/cb'] };
    const result = await sb.run(['clients', 'add', sb.writeFile('bad.json', bad)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('onedoor: redirect_uris[0]: must be an absolute https URL (http only for localhost)\n');

    const after = await sb.run(['clients', 'list', '--json']);
    expect(after.stdout).toBe(before.stdout);
  });

  // Security review (issue 16, finding 7): URLs OneDoor would call are refused up front.
  test.concurrent('when a client file points an outgoing URL at a private, loopback or link-local address, then it exits 1 naming the field and nothing is written', async () => {
    const sb = await sandbox();
    const cases: Array<[string, string]> = [
      ['https://169.254.169.254/latest/meta-data/iam', '169.254.169.254 is link-local'],
      ['https://10.0.0.1:8443', '10.0.0.1 is private'],
      ['https://127.0.0.1:6379/', '127.0.0.1 is loopback'],
      ['https://[::1]/', '::1 is loopback'],
      ['https://[fd00::1]/', 'fd00::1 is private'],
    ];
    const results = await Promise.all(cases.map(async ([jwksUri], i) => {
      const { jwks: _jwks, ...withoutKeys } = await agencyClient(`inside-${i}.agency.gov`);
      return sb.run(['clients', 'add', sb.writeFile(`ssrf-${i}.json`, { ...withoutKeys, jwks_uri: jwksUri })]);
    }));
    expect(results.map((r) => [r.code, r.stderr])).toEqual(cases.map(([, detail]) => [1, `onedoor: jwks_uri: must not point to a private, loopback or link-local address (${detail})\n`]));
    expect(JSON.parse((await sb.run(['clients', 'list', '--json'])).stdout)).toEqual([]);
  });

  test.concurrent('when a client_id is added again, then only --replace replaces it; when it is removed, then list no longer shows it', async () => {
    const sb = await sandbox();
    const client = await agencyClient();
    expect((await sb.run(['clients', 'add', sb.writeFile('c.json', client)])).code).toBe(0);

    const again = await sb.run(['clients', 'add', sb.writeFile('c2.json', { ...client, max_ial: 1 })]);
    expect(again).toMatchObject({ code: 1, stderr: 'onedoor: client_id: benefits.agency.gov is already registered; use --replace to replace it\n' });
    const replaced = await sb.run(['clients', 'add', path.join(sb.dir, 'c2.json'), '--replace']);
    expect(replaced).toMatchObject({ code: 0, stdout: 'replaced client benefits.agency.gov\n' });

    expect(await sb.run(['clients', 'remove', 'benefits.agency.gov'])).toMatchObject({ code: 0, stdout: 'removed client benefits.agency.gov\n' });
    expect(JSON.parse((await sb.run(['clients', 'list', '--json'])).stdout)).toEqual([]);
    expect(await sb.run(['clients', 'remove', 'benefits.agency.gov'])).toMatchObject({ code: 1, stderr: 'onedoor: client_id: no client benefits.agency.gov\n' });
  });

  test.concurrent('when keys rotate, then keys list shows 4 keys with the new ones signing, and the last ES256 key cannot be removed', async () => {
    const sb = await sandbox({ migrated: false });
    const rotated = await sb.run(['keys', 'rotate']);
    expect(rotated.code).toBe(0);
    const newKids = lines(rotated.stdout);
    expect(newKids).toHaveLength(2);

    const listed = JSON.parse((await sb.run(['keys', 'list', '--json'])).stdout) as Array<{ kid: string; alg: string; signing: boolean }>;
    expect(listed).toHaveLength(4);
    expect(listed.filter((k) => k.signing).map((k) => k.kid).sort()).toEqual([...newKids].sort());

    const [oldEs, newEs] = [listed.find((k) => k.alg === 'ES256' && !k.signing)!, listed.find((k) => k.alg === 'ES256' && k.signing)!];
    expect(await sb.run(['keys', 'remove', oldEs.kid])).toMatchObject({ code: 0, stdout: `removed key ${oldEs.kid}\n` });
    const refused = await sb.run(['keys', 'remove', newEs.kid]);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual([`onedoor: kid: ${newEs.kid} is the last ES256 key; rotate first`]);
  });

  test.concurrent('when the command line is wrong, then it exits 2 with one line pointing at --help', async () => {
    const sb = await sandbox({ migrated: false, keys: false });
    const result = await sb.run(['clients', 'frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('onedoor: unknown command "clients frobnicate" (see onedoor --help)\n');
  });
});
