import fs from 'node:fs';
import path from 'node:path';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { SANDBOX_PEOPLE } from '../support/aamva.js';
import { interactionUid } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { chooseAndRedeem, delegationDepsFor, helperSignsIn, newPerson, type TestPerson } from '../support/delegationFlow.js';
import { startHttpReceiver, type HttpReceiver } from '../support/httpReceiver.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { Delegation, DelegationEvent, OidcClient, Representation, SecurityEventDelivery } from '../../entities/index.js';
import type { DelegationDeps } from '../../src/delegation/manageDelegations.js';
import { approveRepresentation } from '../../src/delegation/approveRepresentation.js';
import { recordRepresentation } from '../../src/delegation/recordRepresentation.js';
import { revokeDelegation } from '../../src/delegation/revokeDelegation.js';
import { CLIENT_CACHE_MS } from '../../src/oidc/createAdapter.js';
import { createProvider } from '../../src/oidc/createProvider.js';
import { pairwiseSubject } from '../../src/oidc/pairwise.js';
import { endDelegation, maintainDelegationsAndSessions } from '../../src/oidc/endDelegation.js';
import { deleteVerifiedProfile } from '../../src/proofing/verifiedProfiles.js';
import { clock } from '../../src/shared/clock.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const REVOKED = 'urn:onedoor:secevent:delegation-revoked';
const CHOOSER = 'Who are you signing in for?';

let server: TestServer;
let court: TestAgency;
let consentOnly: TestAgency;
let rp: HttpReceiver;
/** The logout tokens the agency has received since the receiver was last emptied. */
const logouts = () => rp.received.filter((r) => r.path === '/logout').map((r) => new URLSearchParams(r.body).get('logout_token') ?? '');
let deps: DelegationDeps;

beforeAll(async () => {
  server = await startTestServer();
  rp = await startHttpReceiver();
  const grant_types = ['authorization_code', 'refresh_token', EXCHANGE];
  court = await registerAgency(server, { clientId: 'benefits', extra: {
    delegation_enabled: true, delegation_bases_accepted: ['consent', 'guardianship', 'parent', 'power_of_attorney'], max_ial: 2, grant_types,
    backchannel_logout_uri: `${rp.url}/logout`, backchannel_logout_session_required: true, security_event_endpoint: `${rp.url}/events`,
  } });
  consentOnly = await registerAgency(server, { clientId: 'library', extra: { delegation_enabled: true, max_ial: 2 } });
  await registerAgency(server, { clientId: 'benefits-api', extra: { delegation_enabled: true, delegation_bases_accepted: ['guardianship'] } });
  await registerAgency(server, { clientId: 'tax-api', extra: { delegation_enabled: true } });
  deps = delegationDepsFor(server);
});
afterAll(async () => { await rp.close(); await server.close(); });
afterEach(() => clock.reset());

const provider = () => createProvider({ config: server.config, ds: server.ds, keys: server.keys, pages: { renderError: async () => {}, logoutSource: async () => {}, postLogoutSuccessSource: async () => {} } });
const jane = SANDBOX_PEOPLE[0]!;

function record(rep: TestPerson, over: Record<string, unknown> = {}) {
  return {
    kind: 'guardianship',
    representative: { account: rep.email, given_name: 'Jane', family_name: 'Sample', birthdate: jane.dateOfBirth },
    represented: { given_name: 'Ada', family_name: `Ward${Math.random().toString(36).slice(2, 8)}`, birthdate: '1940-02-01' },
    agencies: ['*'], scopes: ['email', 'profile', 'offline_access'],
    evidence: { case_number: 'PR-2026-0117', court: 'County Probate Court', document_type: 'letters of guardianship' },
    ...over,
  };
}

async function recordAndApprove(rep: TestPerson, over: Record<string, unknown> = {}) {
  const kek = server.keys.kek;
  const pepper = server.keys.secrets.pepper;
  const res = await server.ds.transaction((db) => recordRepresentation({ db, kek, pepper }, { input: record(rep, over), source: 'operator', recordedBy: 'alice', status: 'pending', agencies: ['benefits', 'library', 'shelter'] }));
  if (!res.ok) throw new Error(res.error);
  const ok = await approveRepresentation({ db: server.ds.manager, delegationId: res.delegation.id, by: 'bob' });
  if (!ok.ok) throw new Error(ok.reason);
  return res.delegation;
}

/** A representative verified as Jane Sample (the record's name), with an approved guardianship and tokens from acting on it. */
async function guardianTokens(over: Record<string, unknown> = {}) {
  const rep = await newPerson(server, consentOnly);
  await verifyIdentity({ server, agent: rep.agent, authenticator: rep.authenticator });
  const d = await recordAndApprove(rep, over);
  const { tokens } = await chooseAndRedeem(server, { helper: rep, agency: court, choice: d.id, params: { scope: 'openid email profile offline_access', prompt: 'login consent' } });
  return { rep, d, tokens, act: pairwiseSubject(server.keys.secrets.pairwiseSalt, 'benefits.agency.example', rep.account.id) };
}

function exchange(token: string, audience: string) {
  return oidc.genericGrantRequest(court.config, EXCHANGE, { subject_token: token, subject_token_type: AT_TYPE, audience });
}

describe('recording a legal authority', () => {
  test('when an operator records an authority, then it waits for a second operator, and the one who recorded it cannot approve it', async () => {
    const rep = await newPerson(server, consentOnly);
    const res = await server.ds.transaction((db) => recordRepresentation({ db, kek: server.keys.kek, pepper: server.keys.secrets.pepper }, { input: record(rep), source: 'operator', recordedBy: 'Alice', status: 'pending', agencies: ['benefits'] }));
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.delegation).toMatchObject({ status: 'pending', basis: 'guardianship', source: 'operator', principalId: null });
    expect(res.delegation.representedPersonId).toBeTruthy();
    // The sealed record holds no name in clear.
    const stored = await server.ds.getRepository(Representation).findOneByOrFail({ delegationId: res.delegation.id });
    expect(stored.sealed).not.toContain('Ward');
    expect(stored.sealed).not.toContain('Probate');
    expect(await approveRepresentation({ db: server.ds.manager, delegationId: res.delegation.id, by: ' alice ' })).toEqual({ ok: false, reason: 'same_operator' });
    expect(await approveRepresentation({ db: server.ds.manager, delegationId: res.delegation.id, by: 'Bob' })).toMatchObject({ ok: true });
    expect(await approveRepresentation({ db: server.ds.manager, delegationId: res.delegation.id, by: 'Carol' })).toEqual({ ok: false, reason: 'not_pending' });
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: res.delegation.id })).status).toBe('active');
  });

  test('when a pending authority is not yet approved, then the representative cannot act on it', async () => {
    const rep = await newPerson(server, consentOnly);
    await verifyIdentity({ server, agent: rep.agent, authenticator: rep.authenticator });
    await server.ds.transaction((db) => recordRepresentation({ db, kek: server.keys.kek, pepper: server.keys.secrets.pepper }, { input: record(rep), source: 'operator', recordedBy: 'alice', status: 'pending', agencies: [] }));
    const { page } = await helperSignsIn(server, { helper: rep, agency: court });
    expect(page.html).not.toContain(CHOOSER);
  });

  test('when two authorities name the same person without an account, then both representatives act for the same subject', async () => {
    const a = await guardianTokens({ represented: { given_name: 'Ada', family_name: 'Sharedname', birthdate: '1940-02-01' } });
    const b = await guardianTokens({ represented: { given_name: 'ADA', family_name: 'sharedname', birthdate: '1940-02-01' } });
    expect(b.d.representedPersonId).toBe(a.d.representedPersonId);
    expect(b.tokens.claims()!.sub).toBe(a.tokens.claims()!.sub);
  });
});

describe('acting on a legal authority', () => {
  test('when a verified guardian chooses the person, then ID token, userinfo and introspection carry sub, act.sub, basis and source', async () => {
    const { rep, d, tokens, act } = await guardianTokens();
    const claims = tokens.claims()!;
    expect(claims.sub).not.toBe(act);
    expect(claims['act']).toEqual({ sub: act });
    expect(claims['delegation']).toMatchObject({ id: d.id, basis: 'guardianship', source: 'operator' });
    // The session's identity assurance is the representative's own; the represented person has no email of their own.
    const info = await oidc.fetchUserInfo(court.config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: claims.sub, act: { sub: act }, delegation: { basis: 'guardianship', source: 'operator' } });
    expect(info.email).toBeUndefined();
    expect(info.given_name).toBeUndefined();
    const intro = await oidc.tokenIntrospection(court.config, tokens.access_token);
    expect(intro).toMatchObject({ active: true, sub: claims.sub, act: { sub: act }, delegation: { basis: 'guardianship', source: 'operator' } });
    // The same subject again next time.
    const again = await chooseAndRedeem(server, { helper: rep, agency: court, choice: d.id });
    expect(again.tokens.claims()!.sub).toBe(claims.sub);
    const events = await server.ds.getRepository(DelegationEvent).findBy({ delegationId: d.id });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['recorded', 'approved', 'signed_in']));
  });

  test('when a consent helper signs in, then the delegation says basis consent and no source', async () => {
    const { rep } = await guardianTokens();
    const principal = await newPerson(server, court);
    const { delegateTo } = await import('../support/delegationFlow.js');
    const d = await delegateTo(deps, server, { principal, helper: rep, scopes: ['email'] });
    const { tokens } = await chooseAndRedeem(server, { helper: rep, agency: court, choice: d.id });
    expect(tokens.claims()!['delegation']).toEqual({ id: d.id, scopes: ['email'], expires_at: expect.any(Number), basis: 'consent' });
  });

  test('when tokens are exchanged, then basis and source stay, and an audience that does not accept the basis is refused', async () => {
    const { tokens } = await guardianTokens();
    const out = await exchange(tokens.access_token, 'benefits-api');
    const intro = await oidc.tokenIntrospection(court.config, out.access_token);
    expect(intro).toMatchObject({ active: true, delegation: { basis: 'guardianship', source: 'operator' } });
    await expect(exchange(tokens.access_token, 'tax-api')).rejects.toMatchObject({ error: 'invalid_target' });
  });

  test('when an agency does not accept the basis, then the chooser never offers the person there', async () => {
    const { rep } = await guardianTokens();
    const { page } = await helperSignsIn(server, { helper: rep, agency: consentOnly });
    expect(page.html).not.toContain(CHOOSER);
  });

  test('when the representative is not verified, then the person is shown greyed out with a way to verify, and cannot be chosen', async () => {
    const rep = await newPerson(server, consentOnly);
    const d = await recordAndApprove(rep);
    const { url, page } = await helperSignsIn(server, { helper: rep, agency: court });
    expect(page.html).toContain(CHOOSER);
    expect(page.html).toContain('Verify your identity');
    expect(page.html).toContain('disabled');
    expect(page.html).not.toContain('Ward');
    const res = await rep.agent.request(`${server.url}/interaction/${interactionUid(url)}/actor`, { method: 'POST', form: { actor: d.id } });
    expect(res.status).toBe(400);
  });

  test('when the representative is verified under another name, then they cannot act on the authority', async () => {
    const rep = await newPerson(server, consentOnly);
    await verifyIdentity({ server, agent: rep.agent, authenticator: rep.authenticator, person: SANDBOX_PEOPLE[1]! });
    const d = await recordAndApprove(rep);
    const { url } = await helperSignsIn(server, { helper: rep, agency: court });
    const res = await rep.agent.request(`${server.url}/interaction/${interactionUid(url)}/actor`, { method: 'POST', form: { actor: d.id } });
    expect(res.status).toBe(400);
  });

  test('when the agency stops accepting the basis, then tokens already issued on it stop working', async () => {
    const shelter = await registerAgency(server, { clientId: 'shelter', extra: { delegation_enabled: true, delegation_bases_accepted: ['guardianship'] } });
    const rep = await newPerson(server, consentOnly);
    await verifyIdentity({ server, agent: rep.agent, authenticator: rep.authenticator });
    const d = await recordAndApprove(rep, { agencies: ['shelter'] });
    const { tokens } = await chooseAndRedeem(server, { helper: rep, agency: shelter, choice: d.id });
    expect((await oidc.tokenIntrospection(shelter.config, tokens.access_token)).active).toBe(true);
    const row = await server.ds.getRepository(OidcClient).findOneByOrFail({ clientId: 'shelter' });
    const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
    await server.ds.getRepository(OidcClient).update({ clientId: 'shelter' }, { metadata: JSON.stringify({ ...metadata, delegation_bases_accepted: ['consent'] }) });
    await new Promise((r) => setTimeout(r, CLIENT_CACHE_MS + 100));
    expect((await oidc.tokenIntrospection(shelter.config, tokens.access_token)).active).toBe(false);
  });

  test('when the representative deletes their verified identity, then the tokens stop working at once', async () => {
    const { rep, tokens } = await guardianTokens();
    await deleteVerifiedProfile({ db: server.ds.manager, accountId: rep.account.id });
    expect((await oidc.tokenIntrospection(court.config, tokens.access_token)).active).toBe(false);
    const userinfo = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
  });
});

describe('ending a legal authority', () => {
  async function expectEnded(d: Delegation, tokens: { access_token: string; refresh_token?: string | undefined }, reason: string) {
    expect((await oidc.tokenIntrospection(court.config, tokens.access_token)).active).toBe(false);
    await expect(oidc.refreshTokenGrant(court.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const events = await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: d.representedPersonId!, eventType: REVOKED });
    expect(events.map((e) => JSON.parse(e.details))).toContainEqual({ delegation_id: d.id, reason });
    expect((await server.ds.getRepository(Representation).findOneByOrFail({ delegationId: d.id })).endReason).toBe(reason);
  }

  test('when the source ends it, then tokens are inactive, the agency is logged out under the represented subject, and the event says ended_by_source', async () => {
    const { d, tokens } = await guardianTokens();
    rp.received.length = 0;
    expect(await endDelegation({ provider: provider(), ds: server.ds, deps, actorId: null, delegationId: d.id, reason: 'ended_by_source' })).toBe(true);
    await expectEnded(d, tokens, 'ended_by_source');
    expect(logouts()).toHaveLength(1);
    const { payload } = await jwtVerify(logouts()[0]!, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'benefits' });
    expect(payload.sub).toBe(tokens.claims()!.sub);
  });

  test('when the representative steps down on /helpers, then it ends with reason stepped_down', async () => {
    const { rep, d, tokens } = await guardianTokens();
    const page = await rep.agent.page(`${server.url}/helpers`);
    expect(page.html).toContain('Someone you represent');
    expect(page.html).toContain('Legal authority: guardian, recorded by OneDoor support');
    expect(page.html).toContain('Step down');
    const res = await rep.agent.request(`${server.url}/helpers/${d.id}/revoke`, { method: 'POST', body: new URLSearchParams([['_csrf', rep.agent.csrf]]).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(303);
    await expectEnded(d, tokens, 'stepped_down');
  });

  test('when the represented person has an account, then they can end a power of attorney but not a guardianship', async () => {
    const rep = await newPerson(server, consentOnly);
    const principal = await newPerson(server, consentOnly);
    const guardianship = await recordAndApprove(rep, { represented: { account: principal.email, given_name: 'Ada', family_name: 'Ward', birthdate: '1940-02-01' } });
    expect(await revokeDelegation(deps, { actorId: principal.account.id, delegationId: guardianship.id })).toEqual({ ok: false, reason: 'not_found' });
    const poa = await recordAndApprove(rep, { kind: 'power_of_attorney', represented: { account: principal.email, given_name: 'Ada', family_name: 'Ward', birthdate: '1940-02-01' } });
    expect(await revokeDelegation(deps, { actorId: principal.account.id, delegationId: poa.id })).toMatchObject({ ok: true });
    expect((await server.ds.getRepository(Representation).findOneByOrFail({ delegationId: poa.id })).endReason).toBe('ended_by_principal');
  });

  test('when a child turns 18 (test clock), then the parent authority ends with reason came_of_age', async () => {
    const birthday = new Date(clock.nowMs() + 40 * 86400_000);
    const born = `${birthday.getUTCFullYear() - 18}-${String(birthday.getUTCMonth() + 1).padStart(2, '0')}-${String(birthday.getUTCDate()).padStart(2, '0')}`;
    const { d, tokens } = await guardianTokens({ kind: 'parent', represented: { given_name: 'Kid', family_name: `Minor${Date.now()}`, birthdate: born }, evidence: { document_type: 'birth certificate' } });
    expect(d.endsAt.toISOString().slice(0, 10)).toBe(birthday.toISOString().slice(0, 10));
    clock.advance(39 * 86400_000);
    expect((await oidc.tokenIntrospection(court.config, tokens.access_token)).active).toBe(true);
    clock.advance(2 * 86400_000);
    const userinfo = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
    rp.received.length = 0;
    const done = await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    expect(done.expired).toContain(d.id);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id })).status).toBe('expired');
    await expectEnded(d, tokens, 'came_of_age');
    expect(logouts().length).toBeGreaterThanOrEqual(1);
  });

  test('when the review date is 30 days away, then the representative and the source are told once', async () => {
    const review = new Date(clock.nowMs() + 40 * 86400_000).toISOString().slice(0, 10);
    const contact = `register-${Date.now()}@court.example`;
    const { rep, d } = await guardianTokens({ review_at: review, contact_email: contact });
    clock.advance(9 * 86400_000);
    await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    expect((await server.ds.getRepository(Representation).findOneByOrFail({ delegationId: d.id })).reviewRemindedAt).toBeNull();
    clock.advance(2 * 86400_000);
    await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    expect((await server.ds.getRepository(Representation).findOneByOrFail({ delegationId: d.id })).reviewRemindedAt).not.toBeNull();
    const mails = fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml')).map((f) => fs.readFileSync(path.join(server.outboxDir, f), 'utf8')).filter((m) => m.includes('due for review'));
    expect(mails.filter((m) => m.includes(`To: ${rep.email}`))).toHaveLength(1);
    expect(mails.filter((m) => m.includes(`To: ${contact}`))).toHaveLength(1);
    await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    const again = fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml')).map((f) => fs.readFileSync(path.join(server.outboxDir, f), 'utf8')).filter((m) => m.includes('due for review') && m.includes(`To: ${rep.email}`));
    expect(again).toHaveLength(1);
  });

  test('when the review date passes, then a guardianship ends with reason review_date', async () => {
    const review = new Date(clock.nowMs() + 10 * 86400_000).toISOString().slice(0, 10);
    const { d, tokens } = await guardianTokens({ review_at: review });
    clock.advance(11 * 86400_000);
    await maintainDelegationsAndSessions({ provider: provider(), ds: server.ds, deps });
    await expectEnded(d, tokens, 'review_date');
  });
});
