import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { interactionUid, openAuthorization, signUp, signUpToPasskeyStep } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Cutting the database off needs a database across a network connection: MySQL/MariaDB
// (.ci/run runs the suite on MariaDB too). The embedded SQLite file cannot become unreachable.
const databaseUrl = process.env['DATABASE_URL'] ?? '';
const onMysql = /^(mysql|mariadb):\/\//.test(databaseUrl);
// Each database gets the outage it can have; the other's tests are not registered (rather than
// skipped), since .ci/run runs the suite on both and counts a skipped test as a failure.
const describeOnMysql = (name: string, fn: () => void) => { if (onMysql) describe(name, fn); };
const describeOnSqlite = (name: string, fn: () => void) => { if (!onMysql) describe(name, fn); };

let proxy: TcpProxy;
let server: TestServer;
let agency: TestAgency;

beforeAll(async () => {
  if (!onMysql) {
    server = await startTestServer();
    agency = await registerAgency(server, { clientId: 'outage-agency' });
    return;
  }
  const target = new URL(databaseUrl.replace(/^mariadb:/, 'mysql:'));
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 3306) });
  // OneDoor reaches the database only through the proxy; server.db.ds stays direct for checks.
  server = await startTestServer({ databaseUrl: (url) => { const u = new URL(url); u.hostname = '127.0.0.1'; u.port = String(proxy.port); return u.toString(); } });
  agency = await registerAgency(server, { clientId: 'outage-agency' });
});
afterEach(() => { if (onMysql) proxy.restore(); });
afterAll(async () => {
  if (!onMysql) { await server.close(); return; }
  proxy.restore();
  await server.close();
  await proxy.close();
});

const newAuthenticator = () => new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
const newEmail = () => `o-${randomUUID().slice(0, 8)}@example.com`;

async function rowCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['accounts', 'passkeys', 'recovery_codes', 'audit_events']) {
    const [row] = await server.db.ds.query(`SELECT COUNT(*) AS n FROM \`${table}\``) as Array<{ n: string | number }>;
    out[table] = Number(row!.n);
  }
  return out;
}

describeOnMysql('database outage (MySQL/MariaDB: the connection is cut)', () => {
  test('when the database becomes unreachable mid-flow, then pages, fetch calls and provider endpoints answer a readable 503 at once, and the same node serves again when it returns', async () => {
    const email = newEmail();
    const authenticator = newAuthenticator();
    const auth = await agency.authorize({ scope: 'openid email offline_access', prompt: 'consent' });
    const { landing } = await signUp({ server, authenticator, authUrl: auth.url, email });
    const tokens = await agency.redeem(landing, auth);
    const waiting = new Agent();
    const pending = await agency.authorize();
    const base = `${server.url}/interaction/${interactionUid(await openAuthorization(waiting, server, pending.url))}`;
    const before = await rowCounts();

    proxy.cut();

    const page = await waiting.request(`${base}/signup`);
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('retry-after')).toBe('5');
    const html = await page.text();
    expect(html).toContain('OneDoor is temporarily unavailable');
    expect(html).not.toMatch(/ECONNREFUSED|PROTOCOL_|QueryFailed|at .*\.ts:\d+/);

    const api = await waiting.request(`${base}/passkey/options`, { method: 'POST', json: { email: '' } });
    expect(api.status).toBe(503);
    expect(await api.json()).toMatchObject({ error: 'service_unavailable' });

    // Provider endpoints: OAuth-style errors for agencies, a page for browsers.
    // (openid-client reads OAuth error bodies of 4xx answers only; the 503 reaches it as the response.)
    const refreshed = await oidc.refreshTokenGrant(agency.config, tokens.refresh_token!).then(() => undefined, (err: { cause?: unknown }) => err.cause);
    expect(refreshed).toBeInstanceOf(Response);
    expect((refreshed as Response).status).toBe(503);
    expect(await (refreshed as Response).json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    const userinfo = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' } });
    expect(userinfo.status).toBe(503);
    expect(await userinfo.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    const browser = await new Agent().request((await agency.authorize()).url);
    expect(browser.status).toBe(503);
    expect(browser.headers.get('location')).toBeNull();
    expect(await browser.text()).toContain('OneDoor is temporarily unavailable');

    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect((await notReady.json()).checks.database).toMatch(/^(failed|timeout)$/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    proxy.restore();

    expect(await rowCounts()).toEqual(before);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const again = await oidc.refreshTokenGrant(agency.config, tokens.refresh_token!);
    expect(again.access_token).toBeDefined();
    const next = await agency.authorize();
    const other = await signUp({ server, authenticator: newAuthenticator(), authUrl: next.url, email: newEmail() });
    expect((await agency.redeem(other.landing, next)).access_token).toBeDefined();
  });

  test('when the database connection drops in the middle of creating an account, then nothing of the account is written, the person gets a 503 page, and trying again creates it once', async () => {
    const email = newEmail();
    const { postPasskey } = await signUpToPasskeyStep({ server, authenticator: newAuthenticator(), authUrl: (await agency.authorize()).url, email });
    const before = await rowCounts();

    // The account, passkey and recovery codes are inserted; the connection dies at the audit event.
    const cut = proxy.cutWhen(/INSERT INTO `audit_events`/);
    const failed = await postPasskey();
    await cut;
    expect(failed.status).toBe(503);
    expect(await failed.text()).toContain('OneDoor is temporarily unavailable');

    proxy.restore();
    expect(await rowCounts()).toEqual(before);
    expect(await server.db.ds.query('SELECT id FROM `accounts` WHERE email = ?', [email])).toHaveLength(0);

    const retried = await postPasskey();
    expect(retried.status).toBe(200);
    expect(await retried.text()).toMatch(/<li><code>[0-9A-Z-]+<\/code><\/li>/);
    expect(await server.db.ds.query('SELECT id FROM `accounts` WHERE email = ?', [email])).toHaveLength(1);
  });
});

// SQLite's counterpart of an unreachable database: another process holds the write lock past
// the busy timeout (a long migration, a backup tool). Reads go on (WAL); a write gives up with
// SQLITE_BUSY after 5 s and the person gets the readable 503, with nothing half-written.
describeOnSqlite('database locked (SQLite)', () => {
  test('when another process holds the write lock, then a sign-up step answers a readable 503 and writes nothing, and it works once the lock is released', async () => {
    const { default: Database } = await import('better-sqlite3');
    const config = server.db.config as { type: 'sqlite'; file: string };
    const other = new Database(config.file);
    try {
      const agent = new Agent();
      const auth = await agency.authorize();
      const base = `${server.url}/interaction/${interactionUid(await openAuthorization(agent, server, auth.url))}`;
      await agent.page(`${base}/signup`);
      const count = () => (other.prepare('SELECT COUNT(*) AS n FROM email_confirmations').get() as { n: number }).n;
      const before = count();
      other.exec('BEGIN IMMEDIATE');
      const res = await agent.request(`${base}/signup`, { method: 'POST', form: { email: newEmail() } });
      expect(res.status).toBe(503);
      const html = await res.text();
      expect(html).toContain('<html');
      expect(html).not.toMatch(/SQLITE_BUSY|at .*\.ts:\d+/);
      other.exec('ROLLBACK');
      expect(count()).toBe(before);
      expect((await agent.request(`${base}/signup`, { method: 'POST', form: { email: newEmail() } })).status).toBe(303);
      expect(count()).toBe(before + 1);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  }, 30_000);
});
