import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { BACKUP_COMMANDS, fill, RESTORE_COMMANDS } from '../support/backupCommands.js';
import { adoptTestDb } from '../support/db.js';
import { chooseAndRedeem, delegateTo, delegationDepsFor, newPerson, type TestPerson } from '../support/delegationFlow.js';
import { signIn } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * The restore drill of docs/operators.md ("Backup and restore"): back up the database and the
 * keys while OneDoor runs, lose both, restore into a fresh database and keys folder, start
 * OneDoor at the same address — and everything a person had still works. On MariaDB with the
 * documented mariadb-dump commands; on SQLite with SQLite's online backup API.
 */
const onMysql = /^(mysql|mariadb):\/\//.test(process.env['DATABASE_URL'] ?? '');
const sh = (command: string) => execFileSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });

let server: TestServer | undefined;
let backupDir: string;
afterAll(async () => {
  await server?.close();
  if (backupDir) fs.rmSync(backupDir, { recursive: true, force: true });
});

test('when the database and keys are backed up, lost and restored into a fresh database, then a person signs in with their passkey, their verified identity decrypts, their helper\'s delegation still acts, and the agency sees the same subjects', async () => {
  server = await startTestServer();
  backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-backup-'));
  const port = new URL(server.url).port;
  const agency: TestAgency = await registerAgency(server, { clientId: 'drill-agency', extra: { delegation_enabled: true, max_ial: 2, grant_types: ['authorization_code', 'refresh_token'] } });
  const principal: TestPerson = await newPerson(server, agency);
  await verifyIdentity({ server, agent: principal.agent, authenticator: principal.authenticator });
  const helper = await newPerson(server, agency);
  const d = await delegateTo(delegationDepsFor(server), server, { principal, helper, scopes: ['email', 'offline_access'] });
  const { tokens: helperTokens } = await chooseAndRedeem(server, { helper, agency, choice: d.id, params: { scope: 'openid email offline_access', prompt: 'login consent' } });
  const actSub = (helperTokens.claims()!['act'] as { sub: string }).sub;
  expect(helperTokens.claims()!.sub).toBe(principal.sub);

  // Backup, while OneDoor runs.
  const keysDir = server.config.keysDir;
  let restoredUrl: string;
  const restoredKeys = path.join(backupDir, 'restored-keys');
  if (onMysql) {
    const u = new URL(server.db.url);
    const values = { HOST: u.hostname, PORT: u.port || '3306', USER: decodeURIComponent(u.username), DB: u.pathname.slice(1), NEW_DB: `${u.pathname.slice(1)}_restored`, KEYS_DIR: keysDir, BACKUP: backupDir };
    for (const c of BACKUP_COMMANDS) sh(fill(c, values));
    await server.close();
    server = undefined;
    for (const c of RESTORE_COMMANDS) sh(fill(c, { ...values, KEYS_DIR: restoredKeys }));
    u.pathname = `/${values.NEW_DB}`;
    restoredUrl = u.toString();
  } else {
    const { default: Database } = await import('better-sqlite3');
    const live = new Database((server.db.config as { file: string }).file, { readonly: true });
    await live.backup(path.join(backupDir, 'onedoor.sqlite'));
    live.close();
    sh(fill(BACKUP_COMMANDS[1], { KEYS_DIR: keysDir, BACKUP: backupDir }));
    await server.close();
    server = undefined;
    const restoredDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-restored-'));
    fs.copyFileSync(path.join(backupDir, 'onedoor.sqlite'), path.join(restoredDir, 'onedoor.sqlite'));
    sh(fill(RESTORE_COMMANDS[2], { KEYS_DIR: restoredKeys, BACKUP: backupDir }));
    restoredUrl = `sqlite:${path.join(restoredDir, 'onedoor.sqlite')}`;
  }
  expect(fs.existsSync(keysDir)).toBe(false);

  // Restored: a fresh database and keys folder, OneDoor at the same address.
  server = await startTestServer({ db: await adoptTestDb(restoredUrl), keysDir: restoredKeys, port: Number(port) });
  expect(server.url).toBe(`http://localhost:${port}`);

  // The person signs in with their passkey; the agency sees the same subject and the identity decrypts.
  const auth = await agency.authorize({ acr_values: 'urn:acr.login.gov:verified', scope: 'openid profile:name', prompt: 'login' });
  const { landing } = await signIn({ server, authenticator: principal.authenticator, authUrl: auth.url, email: principal.email });
  const tokens = await agency.redeem(landing, auth);
  expect(tokens.claims()!.sub).toBe(principal.sub);
  expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified');
  const info = await oidc.fetchUserInfo(agency.config, tokens.access_token, principal.sub);
  expect(info).toMatchObject({ given_name: 'JANE', family_name: 'SAMPLE' });

  // The helper's refresh token from before the loss still acts for the principal.
  const refreshed = await oidc.refreshTokenGrant(agency.config, helperTokens.refresh_token!);
  const intro = await oidc.tokenIntrospection(agency.config, refreshed.access_token);
  expect(intro).toMatchObject({ active: true, sub: principal.sub, act: { sub: actSub }, delegation: { id: d.id } });
  // And a new delegated sign-in names the same two subjects.
  const again = await chooseAndRedeem(server, { helper, agency, choice: d.id, params: { scope: 'openid email', prompt: 'login consent' } });
  expect(again.tokens.claims()).toMatchObject({ sub: principal.sub, act: { sub: actSub } });
}, 120_000);
