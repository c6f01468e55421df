import * as oidc from 'openid-client';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { SANDBOX_PEOPLE } from '../support/aamva.js';
import { chooseAndRedeem, delegateTo, delegationDepsFor, helperSignsIn, newPerson, type TestPerson } from '../support/delegationFlow.js';
import { finishAtAgency, interactionUid } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { AuditEvent, DelegationEvent, SecurityEventDelivery } from '../../entities/index.js';
import { listConnectedAgencies } from '../../src/accounts/connectedAgencies.js';
import { disableAccount } from '../../src/accounts/disableAccount.js';
import { connectedClientIds, queueSecurityEvent } from '../../src/audit/queueSecurityEvent.js';
import type { DelegationDeps } from '../../src/delegation/manageDelegations.js';

/**
 * A delegated grant (a helper acting for the person they help) and a person's own grant are
 * different grants, never found for one another: whatever the order of sign-ins, prompt=none or
 * consent, a helper acting as themself gets their own identity, and acting for someone gets only
 * what the delegation allows (issue 16, finding 1).
 */
let server: TestServer;
let deps: DelegationDeps;
let confidential: TestAgency;
let publicApp: TestAgency;
let plain: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  deps = delegationDepsFor(server);
  const extra = { delegation_enabled: true, max_ial: 2 };
  confidential = await registerAgency(server, { clientId: 'benefits', extra });
  publicApp = await registerAgency(server, { clientId: 'benefits-app', public: true, extra });
  plain = await registerAgency(server, { clientId: 'library' });
});
afterAll(async () => { await server.close(); });

const IAL2_ASK = { acr_values: 'urn:acr.login.gov:verified', scope: 'openid social_security_number profile address' };

/** A verified principal (JANE) who lets a verified helper (MARCUS) see only their email, everywhere. */
async function verifiedPair(agency: TestAgency, helperAgency: TestAgency = agency) {
  const principal = await newPerson(server, agency);
  const helper = await newPerson(server, helperAgency);
  await verifyIdentity({ server, agent: principal.agent, authenticator: principal.authenticator });
  await verifyIdentity({ server, agent: helper.agent, authenticator: helper.authenticator, person: SANDBOX_PEOPLE[1], ssn: '321-54-9876' });
  const delegation = await delegateTo(deps, server, { principal, helper, scopes: ['email'] });
  return { principal, helper, delegation };
}

/** The helper signs in, chooses themself and agrees to what the agency asks; the agency redeems. */
async function asThemself(helper: TestPerson, agency: TestAgency, params: Record<string, string>) {
  const { auth, url, page } = await helperSignsIn(server, { helper, agency, params });
  expect(page.html).toContain('Who are you signing in for?');
  const res = await helper.agent.request(`${server.url}/interaction/${interactionUid(url)}/actor`, { method: 'POST', form: { actor: 'self' } });
  expect(res.status).toBe(303);
  const landing = await finishAtAgency(helper.agent, server, new URL(res.headers.get('location')!, server.url).toString());
  return agency.redeem(landing, auth);
}

/** What the principal's and the delegation's histories say about uses of the delegation. */
async function uses(principal: TestPerson, delegationId: string) {
  const audit = await server.ds.getRepository(AuditEvent).countBy({ accountId: principal.account.id, type: 'delegation_used' });
  const events = await server.ds.getRepository(DelegationEvent).countBy({ delegationId, type: 'signed_in' });
  return { audit, events };
}

describe.each([
  ['a confidential client', () => confidential],
  ['a public client', () => publicApp],
])('with %s', (_name, agencyOf) => {
  test('when a helper who acted for someone signs in again as themself and the agency asks for SSN, name and address at IAL2, then it gets the helper\'s own identity, never the principal\'s', async () => {
    const agency = agencyOf();
    const { principal, helper, delegation } = await verifiedPair(agency);
    const delegated = await chooseAndRedeem(server, { helper, agency, choice: delegation.id, params: { scope: 'openid email' } });
    expect(delegated.tokens.claims()!.sub).toBe(principal.sub);
    const before = await uses(principal, delegation.id);

    const own = await asThemself(helper, agency, IAL2_ASK);
    const claims = own.claims()!;
    expect(claims.sub).toBe(helper.sub);
    expect(claims['act']).toBeUndefined();
    expect(claims['delegation']).toBeUndefined();
    const info = await oidc.fetchUserInfo(agency.config, own.access_token, helper.sub);
    expect(info.sub).toBe(helper.sub);
    expect(info.given_name).toBe('MARCUS');
    expect(info['social_security_number']).toBe('321549876');
    expect(info['delegation']).toBeUndefined();
    // Acting as oneself is not a use of the delegation.
    expect(await uses(principal, delegation.id)).toEqual(before);
  });

  test('when a helper who acted for someone comes back with prompt=none, then the agency gets the helper\'s own session', async () => {
    const agency = agencyOf();
    const { principal, helper, delegation } = await verifiedPair(agency);
    await chooseAndRedeem(server, { helper, agency, choice: delegation.id, params: { scope: 'openid email' } });
    const before = await uses(principal, delegation.id);
    const auth = await agency.authorize({ prompt: 'none' });
    const { url } = await helper.agent.follow(auth.url, server.url);
    const tokens = await agency.redeem(url, auth);
    expect(tokens.claims()!.sub).toBe(helper.sub);
    expect(tokens.claims()!['act']).toBeUndefined();
    expect((await oidc.fetchUserInfo(agency.config, tokens.access_token, helper.sub)).email).toBe(helper.email);
    expect(await uses(principal, delegation.id)).toEqual(before);
  });

  test('when a helper whose only grant at the agency is a delegated one asks with prompt=none, then consent is required and nothing of the principal comes back', async () => {
    const agency = agencyOf();
    // The helper signed up elsewhere: at this agency they only ever acted for the principal.
    const { principal, helper, delegation } = await verifiedPair(agency, plain);
    await chooseAndRedeem(server, { helper, agency, choice: delegation.id, params: { scope: 'openid email' } });
    const auth = await agency.authorize({ prompt: 'none' });
    const { url } = await helper.agent.follow(auth.url, server.url);
    expect(new URL(url).searchParams.get('error')).toBe('consent_required');
    expect(new URL(url).searchParams.get('code')).toBeNull();
    void principal;
  });

  test('when a helper who signed in as themself with SSN and name then acts for someone, then only what the delegation allows is released, under the principal\'s subject', async () => {
    const agency = agencyOf();
    const { principal, helper, delegation } = await verifiedPair(agency);
    const own = await asThemself(helper, agency, IAL2_ASK);
    expect(own.claims()!.sub).toBe(helper.sub);
    const { tokens } = await chooseAndRedeem(server, { helper, agency, choice: delegation.id, params: IAL2_ASK });
    expect(tokens.claims()!.sub).toBe(principal.sub);
    expect(tokens.claims()!['act']).toEqual({ sub: helper.sub });
    expect(tokens.scope!.split(' ').sort()).toEqual(['openid']);
    const info = await oidc.fetchUserInfo(agency.config, tokens.access_token, principal.sub);
    expect(info['social_security_number']).toBeUndefined();
    expect(info.given_name).toBeUndefined();
    expect(info.address).toBeUndefined();
    // And with prompt=none right after, the helper is themself again, with their own consent.
    const auth = await agency.authorize({ prompt: 'none', ...IAL2_ASK });
    const { url } = await helper.agent.follow(auth.url, server.url);
    const again = await agency.redeem(url, auth);
    expect(again.claims()!.sub).toBe(helper.sub);
    const mine = await oidc.fetchUserInfo(agency.config, again.access_token, helper.sub);
    expect(mine['social_security_number']).toBe('321549876');
  });
});

describe('where each person is known', () => {
  let watched: TestAgency;
  beforeAll(async () => {
    watched = await registerAgency(server, { clientId: 'benefits-events', extra: { delegation_enabled: true, max_ial: 2, security_event_endpoint: 'http://127.0.0.1:9/events' } });
  });

  /** A principal who never signed in at `watched` themself, and a helper who acted for them there. */
  async function helpedOnlyThroughHelper() {
    const principal = await newPerson(server, plain);
    const helper = await newPerson(server, plain);
    const delegation = await delegateTo(deps, server, { principal, helper, scopes: ['email'] });
    await chooseAndRedeem(server, { helper, agency: watched, choice: delegation.id, params: { scope: 'openid email' } });
    return { principal, helper, delegation };
  }

  test('when the helper\'s own account changes, then an agency where they only acted for someone else is not told about them', async () => {
    const { helper } = await helpedOnlyThroughHelper();
    expect(await connectedClientIds({ db: server.ds.manager, accountId: helper.account.id })).not.toContain('benefits-events');
    expect(await queueSecurityEvent({ db: server.ds.manager, accountId: helper.account.id, event: 'credential_change', details: { change_type: 'create', credential_type: 'fido2-platform' } })).toEqual([]);
    expect((await listConnectedAgencies({ db: server.ds.manager, accountId: helper.account.id })).map((a) => a.clientId)).not.toContain('benefits-events');
  });

  test('when the principal is disabled, then an agency they reached only through their helper is told, under the subject it knows them by', async () => {
    const { principal } = await helpedOnlyThroughHelper();
    const result = await server.ds.transaction((db) => disableAccount({ db, accountId: principal.account.id }));
    expect(result).toEqual({ ok: true, notified: ['benefits-events'] });
    const [event] = await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: principal.account.id, clientId: 'benefits-events' });
    expect(event!.eventType).toBe('https://schemas.openid.net/secevent/risc/event-type/account-disabled');
  });
});
