import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { interactionUid, openAuthorization, signIn, signUp } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { Account } from '../../entities/index.js';
import { inviteHelper } from '../../src/delegation/manageDelegations.js';
import { createMailer } from '../../src/shared/mailer.js';
import { translator } from '../../src/shared/i18n.js';
import { clock } from '../../src/shared/clock.js';

let server: TestServer;
let agency: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'metrics-agency', extra: { max_ial: 2 } });
});
afterAll(async () => { await server.close(); });

async function scrape(s: TestServer = server, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${s.url.replace('localhost', '127.0.0.1')}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** Sum of the samples of `name` whose labels include `labels` (0 when there is none). */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? ([0-9.e+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

const newEmail = () => `m-${randomUUID().slice(0, 8)}@example.com`;

test('when people sign up, sign in, fail, hit a rate limit, verify their identity and invite a helper, then /metrics counts each of them with bounded labels', async () => {
  const before = await scrape();
  expect(value(before, 'onedoor_process_cpu_user_seconds_total')).toBeGreaterThan(0);
  expect(before).toContain('# TYPE onedoor_http_request_duration_seconds histogram');

  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const email = newEmail();
  const auth = await agency.authorize();
  const { agent, landing } = await signUp({ server, authenticator, authUrl: auth.url, email });
  await agency.redeem(landing, auth);
  await expect(agency.redeem(landing, auth)).rejects.toMatchObject({ error: 'invalid_grant' });
  const again = await agency.authorize({ prompt: 'login' });
  await signIn({ server, authenticator, authUrl: again.url, agent });

  // A passkey assertion with a bad signature, and a wrong recovery code.
  const stranger = new Agent();
  const third = await agency.authorize();
  const url = await openAuthorization(stranger, server, third.url);
  const base = `${server.url}/interaction/${interactionUid(url)}`;
  const options = await stranger.request(`${base}/passkey/options`, { method: 'POST', json: { email: '' } });
  const assertion = authenticator.getAssertion({ options: await options.json(), badSignature: true });
  expect((await stranger.request(`${base}/passkey`, { method: 'POST', form: { response: JSON.stringify(assertion) } })).status).toBe(400);
  expect((await stranger.request(`${base}/recovery`, { method: 'POST', form: { email, code: 'AAAA-BBBB-CCCC' } })).status).toBe(400);

  // Sign-up mail is limited to 5 an hour per address: the sixth is refused.
  await stranger.page(`${base}/signup`);
  const target = newEmail();
  const statuses: number[] = [];
  for (let i = 0; i < 6; i += 1) statuses.push((await stranger.request(`${base}/signup`, { method: 'POST', form: { email: target } })).status);
  expect(statuses.at(-1)).toBe(429);

  await verifyIdentity({ server, agent, authenticator });
  const principal = await server.ds.getRepository(Account).findOneByOrFail({ email });
  const deps = { db: server.ds.manager, mailer: createMailer({ outboxDir: server.outboxDir, from: 'OneDoor <x@y>' }), t: () => translator('en'), pepper: server.keys.secrets.pepper, issuer: server.url };
  await inviteHelper(deps, { principalId: principal.id, helperEmail: newEmail(), terms: { clientIds: ['*'], scopes: ['email'], endsAt: new Date(clock.nowMs() + 86400_000) } });

  const after = await scrape();
  const moved = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
  expect(moved('onedoor_sign_ups_total')).toBe(1);
  expect(moved('onedoor_sign_ins_total', { method: 'passkey', outcome: 'success' })).toBe(1);
  expect(moved('onedoor_sign_ins_total', { method: 'passkey', outcome: 'failure' })).toBe(1);
  expect(moved('onedoor_sign_ins_total', { method: 'recovery_code', outcome: 'failure' })).toBe(1);
  expect(moved('onedoor_rate_limited_total', { route: '/interaction/:uid/signup' })).toBe(1);
  expect(moved('onedoor_errors_total', { source: 'oidc', code: 'invalid_grant' })).toBe(1);
  expect(moved('onedoor_errors_total', { source: 'pages', code: 'too_many_attempts' })).toBe(1);
  expect(moved('onedoor_proofing_events_total', { step: 'document', outcome: 'passed' })).toBe(1);
  expect(moved('onedoor_proofing_events_total', { step: 'verified', outcome: 'passed' })).toBe(1);
  expect(moved('onedoor_delegation_events_total', { type: 'invited' })).toBe(1);
  expect(moved('onedoor_audit_events_total', { type: 'account_created' })).toBe(1);
  expect(moved('onedoor_http_requests_total', { route: 'oidc:token', method: 'POST', status_class: '2xx' })).toBe(1);
  expect(moved('onedoor_http_requests_total', { route: 'oidc:token', method: 'POST', status_class: '4xx' })).toBe(1);
  expect(moved('onedoor_http_request_duration_seconds_count', { route: '/interaction/:uid/signup/passkey', method: 'POST' })).toBe(1);
  // Labels are route patterns and endpoint names, never an interaction id or an address.
  expect(after).not.toContain(interactionUid(url));
  expect(after).not.toContain('@example.com');
  const routes = new Set([...after.matchAll(/route="([^"]*)"/g)].map((m) => m[1]!));
  for (const r of routes) expect(r).toMatch(/^(oidc:[a-z_]+|\/[A-Za-z0-9/:_.-]*|static|unmatched)$/);
});

test('when a second app runs in the same process, then it has its own registry and counts only its own requests', async () => {
  const other = await startTestServer();
  try {
    const text = await scrape(other);
    expect(value(text, 'onedoor_sign_ups_total')).toBe(0);
    expect(value(text, 'onedoor_http_requests_total', { route: 'oidc:token' })).toBe(0);
    expect(value(await scrape(), 'onedoor_sign_ups_total')).toBeGreaterThan(0);
  } finally {
    await other.close();
  }
});

test('when /metrics is asked for through a proxy on this machine without METRICS_TOKEN, then it is refused', async () => {
  const res = await fetch(`${server.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
  expect(res.status).toBe(403);
  expect(await res.text()).not.toContain('onedoor_');
});

test('when METRICS_TOKEN is set, then /metrics answers only a request bearing it', async () => {
  const token = `tok-${randomUUID()}`;
  const guarded = await startTestServer({ env: { METRICS_TOKEN: token } });
  try {
    const none = await fetch(`${guarded.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    expect(value(await scrape(guarded, { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' }), 'onedoor_http_requests_total')).toBeGreaterThan(0);
  } finally {
    await guarded.close();
  }
});

test('when the database and keys are there, then /readyz answers 200 with each check, and no secret', async () => {
  const res = await fetch(`${server.url}/readyz`);
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', keys: 'ok' } });
});
