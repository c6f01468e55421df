import http from 'node:http';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { Agent } from '../support/agent.js';
import { finishAtAgency, interactionUid, invitationCodeFrom } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { chooseAndRedeem as chooseAndRedeemAt, delegateTo, delegationDepsFor, helperSignsIn, newPerson, type TestPerson } from '../support/delegationFlow.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';
import { Delegation, DelegationEvent, SecurityEventDelivery } from '../../entities/index.js';
import { answerInvitation, inviteHelper } from '../../src/delegation/manageDelegations.js';
import { endAllSessions } from '../../src/oidc/accountSessions.js';
import { createProvider } from '../../src/oidc/createProvider.js';
import { presetExtra } from '../../src/oidc/tokenExchange.js';
import { endDelegation, maintainDelegationsAndSessions } from '../../src/oidc/endDelegation.js';
import { clock } from '../../src/shared/clock.js';
import type { DelegationDeps } from '../../src/delegation/manageDelegations.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

let server: TestServer;
let agencyD: TestAgency;
let agencyE: TestAgency;
let plain: TestAgency;
let logouts: string[] = [];
let rp: http.Server;
let deps: DelegationDeps;

beforeAll(async () => {
  server = await startTestServer();
  rp = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { logouts.push(new URLSearchParams(body).get('logout_token') ?? ''); res.writeHead(200); res.end(); });
  });
  await new Promise<void>((r) => rp.listen(0, '127.0.0.1', r));
  const port = (rp.address() as { port: number }).port;
  const grants = ['authorization_code', 'refresh_token', EXCHANGE];
  agencyD = await registerAgency(server, { clientId: 'dmv', extra: { delegation_enabled: true, max_ial: 2, grant_types: grants, backchannel_logout_uri: `http://127.0.0.1:${port}/logout`, backchannel_logout_session_required: true, security_event_endpoint: `http://127.0.0.1:${port}/events` } });
  agencyE = await registerAgency(server, { clientId: 'health', extra: { delegation_enabled: true, max_ial: 2, grant_types: grants } });
  plain = await registerAgency(server, { clientId: 'library', extra: { delegation_enabled: false } });
  await registerAgency(server, { clientId: 'dmv-api', extra: { delegation_enabled: false } });
  deps = delegationDepsFor(server);
});
afterAll(async () => { rp.close(); await server.close(); });
afterEach(() => clock.reset());

function provider() {
  // A provider over the same database and keys, for the oidc-side helpers (back-channel logout).
  return createProvider({ config: server.config, ds: server.ds, keys: server.keys, pages: { renderError: async () => {}, logoutSource: async () => {}, postLogoutSuccessSource: async () => {} } });
}

const person = (agency: TestAgency = plain) => newPerson(server, agency);
const delegate = (opts: Parameters<typeof delegateTo>[2]) => delegateTo(deps, server, opts);
const actAs = (opts: { helper: TestPerson; agency: TestAgency; choice: string | 'self'; params?: Record<string, string> }) => helperSignsIn(server, opts);
const chooseAndRedeem = (opts: { helper: TestPerson; agency: TestAgency; choice: string; params?: Record<string, string> }) => chooseAndRedeemAt(server, opts);

describe('delegated sessions', () => {
  test('when a helper signs in for a principal, then ID token, userinfo and introspection carry the principal sub, act.sub and the delegation', async () => {
    const principal = await person(agencyD);
    const helper = await person(agencyD);
    const d = await delegate({ principal, helper, scopes: ['email'] });
    const { tokens } = await chooseAndRedeem({ helper, agency: agencyD, choice: d.id, params: { scope: 'openid email address' } });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(principal.sub);
    expect(claims['act']).toEqual({ sub: helper.sub });
    expect(claims['delegation']).toMatchObject({ id: d.id, scopes: ['email'] });
    expect(claims.acr).toBe('urn:onedoor:ial:1');
    expect(tokens.scope!.split(' ').sort()).toEqual(['email', 'openid']);
    const info = await oidc.fetchUserInfo(agencyD.config, tokens.access_token, principal.sub);
    expect(info.email).toBe(principal.email);
    expect(info['act']).toEqual({ sub: helper.sub });
    expect(info.address).toBeUndefined();
    const intro = await oidc.tokenIntrospection(agencyD.config, tokens.access_token);
    expect(intro).toMatchObject({ active: true, sub: principal.sub, act: { sub: helper.sub }, delegation: { id: d.id } });
    // The principal sees the sign-in in their history; the delegation records it.
    const events = await server.ds.getRepository(DelegationEvent).findBy({ delegationId: d.id, type: 'signed_in' });
    expect(events).toHaveLength(1);
    expect(events[0]!.clientId).toBe('dmv');
  });

  test('when the same two people meet at two agencies, then both pairwise subjects differ per agency', async () => {
    const principal = await person(agencyD);
    const helper = await person(agencyD);
    const d = await delegate({ principal, helper });
    const atD = (await chooseAndRedeem({ helper, agency: agencyD, choice: d.id })).tokens.claims()!;
    const atE = (await chooseAndRedeem({ helper, agency: agencyE, choice: d.id })).tokens.claims()!;
    expect(atD.sub).not.toBe(atE.sub);
    expect((atD['act'] as { sub: string }).sub).not.toBe((atE['act'] as { sub: string }).sub);
  });

  test('when the helper chooses themself, then the session is their own with no act claim', async () => {
    const principal = await person(agencyD);
    const helper = await person(agencyD);
    await delegate({ principal, helper });
    const { tokens } = await chooseAndRedeem({ helper, agency: agencyD, choice: 'self' });
    expect(tokens.claims()!.sub).toBe(helper.sub);
    expect(tokens.claims()!['act']).toBeUndefined();
  });

  test('when an agency did not enable delegation, then the helper is never offered a choice and gets their own session', async () => {
    const principal = await person(plain);
    const helper = await person(plain);
    await delegate({ principal, helper });
    const { auth, url, page } = await actAs({ helper, agency: plain, choice: 'self' });
    expect(page.html).not.toContain('Who are you signing in for?');
    const tokens = await plain.redeem(url.startsWith(server.url) ? await finishAtAgency(helper.agent, server, url) : url, auth);
    expect(tokens.claims()!.sub).toBe(helper.sub);
    expect(tokens.claims()!['act']).toBeUndefined();
  });

  test('when a delegation only covers another agency, then this agency offers no choice', async () => {
    const principal = await person(agencyD);
    const helper = await person(agencyD);
    await delegate({ principal, helper, clientIds: ['health'] });
    const { page } = await actAs({ helper, agency: agencyD, choice: 'self' });
    expect(page.html).not.toContain('Who are you signing in for?');
  });

  test('when an agency asks IAL2 in a delegated session, then it is met only when both people are verified', async () => {
    const principal = await person(agencyD);
    const helper = await person(agencyD);
    await verifyIdentity({ server, agent: helper.agent, authenticator: helper.authenticator });
    const d = await delegate({ principal, helper });
    const ask = { acr_values: 'urn:acr.login.gov:verified', scope: 'openid email profile' };
    const { url, page } = await actAs({ helper, agency: agencyD, choice: d.id, params: ask });
    const res = await helper.agent.request(`${server.url}/interaction/${interactionUid(url)}/actor`, { method: 'POST', form: { actor: d.id } });
    const next = await helper.agent.follow(new URL(res.headers.get('location')!, server.url).toString(), server.url);
    expect(page.html).toContain('Who are you signing in for?');
    expect((await helper.agent.page(next.url)).html).toContain('has not verified their identity');
    // Once the principal verifies too, the delegated session reaches IAL2 with the principal's verified name.
    await verifyIdentity({ server, agent: principal.agent, authenticator: principal.authenticator });
    const { tokens } = await chooseAndRedeem({ helper, agency: agencyD, choice: d.id, params: ask });
    expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified');
    const info = await oidc.fetchUserInfo(agencyD.config, tokens.access_token, principal.sub);
    expect(info.given_name).toBe('JANE');
  });
});

describe('token exchange', () => {
  async function delegatedTokens(scopes = ['email', 'offline_access']) {
    const principal = await person(agencyD);
    const helper = await person(agencyD);
    const d = await delegate({ principal, helper, scopes });
    const { tokens } = await chooseAndRedeem({ helper, agency: agencyD, choice: d.id, params: { scope: 'openid email offline_access', prompt: 'login consent' } });
    return { principal, helper, d, tokens };
  }
  const exchange = (subject: string, extra: Record<string, string> = {}) => oidc.genericGrantRequest(agencyD.config, EXCHANGE, { subject_token: subject, subject_token_type: AT_TYPE, audience: 'dmv-api', ...extra });

  test('when a client exchanges a delegated access token, then it gets a short-lived token for the other resource that keeps sub and act', async () => {
    const { principal, helper, tokens } = await delegatedTokens();
    const out = await exchange(tokens.access_token, { scope: 'openid email' });
    expect(out.issued_token_type).toBe(AT_TYPE);
    expect(out.expires_in).toBeLessThanOrEqual(300);
    const intro = await oidc.tokenIntrospection(agencyD.config, out.access_token);
    expect(intro).toMatchObject({ active: true, sub: principal.sub, act: { sub: helper.sub }, aud: ['dmv-api'], scope: 'openid email' });
    expect(Number(intro.exp) - Number(intro.iat)).toBeLessThanOrEqual(300);
  });

  test('when the exchange asks beyond the delegation, names an actor_token, or names no registered audience, then it is refused', async () => {
    const { tokens } = await delegatedTokens(['email']);
    await expect(exchange(tokens.access_token, { scope: 'openid email address' })).rejects.toMatchObject({ error: 'invalid_scope' });
    await expect(exchange(tokens.access_token, { actor_token: tokens.access_token, actor_token_type: AT_TYPE })).rejects.toMatchObject({ error: 'invalid_request' });
    await expect(exchange(tokens.access_token, { audience: 'nobody' })).rejects.toMatchObject({ error: 'invalid_target' });
    await expect(exchange('not-a-token')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('when an exchanged token is presented as the subject of another exchange, then it is invalid_grant (no chain of fresh tokens)', async () => {
    const { tokens } = await delegatedTokens();
    const first = await exchange(tokens.access_token);
    await expect(exchange(first.access_token)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The same for a token exchanged from an ordinary (not delegated) access token.
    const p = await person(agencyD);
    const a = await agencyD.authorize();
    const ordinary = await agencyD.redeem(await finishAtAgency(p.agent, server, a.url), a);
    const hop = await exchange(ordinary.access_token);
    await expect(exchange(hop.access_token)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('when the subject token has less than five minutes left, then the exchanged token expires with it', async () => {
    const { tokens } = await delegatedTokens();
    const subject = (await server.provider.AccessToken.find(tokens.access_token))!;
    const client = (await server.provider.Client.find('dmv'))!;
    const short = new server.provider.AccessToken({ accountId: subject.accountId, client, grantId: subject.grantId, scope: subject.scope, expiresIn: 40, ...(subject.sessionUid ? { sessionUid: subject.sessionUid } : {}) } as never);
    // Minted outside a request, so its claims are given as the exchange gives them (sub, act, delegation).
    presetExtra.set(short, subject.extra ?? {});
    const shortValue = await short.save();
    const shortIntro = await oidc.tokenIntrospection(agencyD.config, shortValue);
    expect(shortIntro.active).toBe(true);
    const out = await exchange(shortValue);
    expect(out.expires_in).toBeLessThanOrEqual(40);
    const intro = await oidc.tokenIntrospection(agencyD.config, out.access_token);
    expect(Number(intro.exp)).toBeLessThanOrEqual(Number(shortIntro.exp));
  });

  test('when an ordinary access token is exchanged, then the new token keeps its own subject', async () => {
    const p = await person(agencyD);
    const a = await agencyD.authorize();
    const tokens = await agencyD.redeem(await finishAtAgency(p.agent, server, a.url), a);
    const out = await exchange(tokens.access_token);
    const intro = await oidc.tokenIntrospection(agencyD.config, out.access_token);
    expect(intro).toMatchObject({ active: true, sub: p.sub });
    expect(intro['act']).toBeUndefined();
  });

  test('when the delegation is revoked, then its tokens are inactive at once, refresh fails, userinfo is 401, exchange is invalid_grant and the agency is logged out', async () => {
    const { principal, d, tokens } = await delegatedTokens();
    const exchanged = await exchange(tokens.access_token);
    logouts = [];
    expect(await endDelegation({ provider: provider(), ds: server.ds, deps, actorId: principal.account.id, delegationId: d.id })).toBe(true);
    expect((await oidc.tokenIntrospection(agencyD.config, tokens.access_token)).active).toBe(false);
    expect((await oidc.tokenIntrospection(agencyD.config, exchanged.access_token)).active).toBe(false);
    await expect(oidc.refreshTokenGrant(agencyD.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const userinfo = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
    await expect(exchange(tokens.access_token)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(logouts).toHaveLength(1);
    const { payload } = await jwtVerify(logouts[0]!, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'dmv' });
    expect(payload.sub).toBe(principal.sub);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id })).status).toBe('revoked');
    // The agency opted in to security events: a delegation-revoked event about the principal waits for it.
    const events = await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: principal.account.id, eventType: 'urn:onedoor:secevent:delegation-revoked' });
    expect(events.map((e) => [e.clientId, JSON.parse(e.details)])).toEqual([['dmv', { delegation_id: d.id, reason: 'revoked' }]]);
  });

  test('when a helper signs out everywhere, then the agency is logged out of the delegated session under the subject it knows: the principal\'s', async () => {
    const { principal, helper } = await delegatedTokens();
    logouts = [];
    expect(await endAllSessions({ provider: provider(), ds: server.ds, accountId: helper.account.id })).toBeGreaterThanOrEqual(1);
    expect(logouts).toHaveLength(1);
    const { payload } = await jwtVerify(logouts[0]!, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'dmv' });
    expect(payload.sub).toBe(principal.sub);
    expect(payload.sub).not.toBe(helper.sub);
  });

  test('when the clock passes the end date, then the delegation expires: userinfo 401, exchange invalid_grant, and housekeeping logs the agency out', async () => {
    const { d, tokens } = await delegatedTokens();
    clock.advance(31 * 86400 * 1000);
    const userinfo = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
    await expect(exchange(tokens.access_token)).rejects.toMatchObject({ error: 'invalid_grant' });
    logouts = [];
    const done = await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    expect(done.expired).toContain(d.id);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id })).status).toBe('expired');
    expect(logouts.length).toBeGreaterThanOrEqual(1);
  });

  test('when an invitation is not answered within 7 days, then housekeeping marks it expired and its code no longer works', async () => {
    const principal = await person(agencyD);
    const inv = await inviteHelper(deps, { principalId: principal.account.id, helperEmail: `late-${randomUUID().slice(0, 6)}@example.com`, terms: { clientIds: ['*'], scopes: ['email'], endsAt: new Date(clock.nowMs() + 30 * 86400 * 1000) } });
    expect(inv.ok).toBe(true);
    const code = invitationCodeFrom(latestMail(server.outboxDir));
    clock.advance(8 * 86400 * 1000);
    const done = await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    expect(done.expired).toContain(inv.ok ? inv.delegation.id : '');
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: inv.ok ? inv.delegation.id : '' })).status).toBe('expired');
    const helper = await person(agencyD);
    expect(await answerInvitation(deps, { helperId: helper.account.id, code, accept: true })).toEqual({ ok: false, reason: 'invalid' });
  });

  test('when a delegation ends within a week, then both people get one reminder', async () => {
    const principal = await person(agencyD);
    const helper = await person(agencyD);
    await delegate({ principal, helper, days: 10 });
    clock.advance(4 * 86400 * 1000);
    const first = await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    expect(first.reminded).toBeGreaterThanOrEqual(1);
    const again = await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    expect(again.reminded).toBe(0);
  });
});

describe('what a helper can never do', () => {
  test("when a helper posts to the principal's account routes, then nothing of the principal's changes", async () => {
    const principal = await person(agencyD);
    const helper = await person(agencyD);
    await delegate({ principal, helper });
    const theirPasskey = principal.authenticator.credentials[0]!.id;
    await helper.agent.page(`${server.url}/account`);
    const rename = await helper.agent.request(`${server.url}/account/passkeys/${theirPasskey}/rename`, { method: 'POST', form: { name: 'x' } });
    expect(rename.status).toBe(403);
    const remove = await helper.agent.request(`${server.url}/account/passkeys/${theirPasskey}/remove`);
    expect(remove.status).toBe(403);
  });

  test('when an invitation is answered by the principal themself, then it is refused (no delegation to oneself)', async () => {
    const principal = await person(agencyD);
    const inv = await inviteHelper(deps, { principalId: principal.account.id, helperEmail: `someone-${randomUUID().slice(0, 6)}@example.com`, terms: { clientIds: ['*'], scopes: ['email'], endsAt: new Date(clock.nowMs() + 86400 * 1000 * 3) } });
    expect(inv.ok).toBe(true);
    const code = invitationCodeFrom(latestMail(server.outboxDir));
    expect(await answerInvitation(deps, { helperId: principal.account.id, code, accept: true })).toEqual({ ok: false, reason: 'self' });
  });
});

void Agent;
