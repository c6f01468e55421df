import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { Agent } from '../support/agent.js';
import { SANDBOX_PEOPLE } from '../support/aamva.js';
import { chooseAndRedeem, delegateTo, delegationDepsFor, newPerson, type TestPerson } from '../support/delegationFlow.js';
import { finishAtAgency, interactionUid, openAuthorization, signUp } from '../support/flows.js';
import { startHttpReceiver, type HttpReceiver } from '../support/httpReceiver.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { Account, SecurityEventDelivery } from '../../entities/index.js';
import { clock } from '../../src/shared/clock.js';

/**
 * Identity assurance is what the person's verified identity says now, at every token: a token
 * issued at IAL2 stops working when the identity is deleted, set aside after an account recovery,
 * or older than the agency's `verified_within` (issue 17, finding 2).
 */
let server: TestServer;
let agency: TestAgency;
let receiver: HttpReceiver;

beforeAll(async () => {
  server = await startTestServer();
  receiver = await startHttpReceiver();
  agency = await registerAgency(server, {
    clientId: 'benefits',
    extra: { max_ial: 2, backchannel_logout_uri: `${receiver.url}/logout`, security_event_endpoint: `${receiver.url}/events` },
  });
});
afterAll(async () => { await receiver.close(); await server.close(); });
afterEach(() => clock.reset());

const IAL2 = { acr_values: 'urn:acr.login.gov:verified', scope: 'openid email profile offline_access', prompt: 'consent' };

/** A verified person and the tokens of an IAL2 authorization (with a refresh token) at the agency. */
async function verifiedWithTokens(params: Record<string, string> = {}) {
  const person = await newPerson(server, agency);
  await verifyIdentity({ server, agent: person.agent, authenticator: person.authenticator });
  const auth = await agency.authorize({ ...IAL2, ...params });
  const tokens = await agency.redeem(await finishAtAgency(person.agent, server, auth.url), auth);
  expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified');
  expect(tokens.refresh_token).toBeDefined();
  return { person, tokens };
}

async function expectDead(tokens: oidc.TokenEndpointResponse) {
  await expect(oidc.refreshTokenGrant(agency.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  expect((await oidc.tokenIntrospection(agency.config, tokens.access_token)).active).toBe(false);
  const userinfo = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  expect(userinfo.status).toBe(401);
}

async function eventsFor(person: TestPerson) {
  return (await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: person.account.id, clientId: 'benefits' })).map((e) => [e.eventType, JSON.parse(e.details)]);
}

const ASSURANCE_DOWN = ['https://schemas.openid.net/secevent/caep/event-type/assurance-level-change', { namespace: 'NIST-IAL', current_level: 'nist-ial1', previous_level: 'nist-ial2', change_direction: 'decrease' }];

test('when a person deletes their verified identity, then the agency\'s IAL2 tokens stop at once, it is logged out and told the assurance went down', async () => {
  const { person, tokens } = await verifiedWithTokens();
  receiver.received.length = 0;
  await person.agent.page(`${server.url}/account`);
  expect((await person.agent.request(`${server.url}/account/identity/delete`, { method: 'POST', form: { confirm: 'yes' } })).status).toBe(303);
  await expectDead(tokens);
  const logouts = receiver.received.filter((r) => r.path === '/logout');
  expect(logouts).toHaveLength(1);
  const { payload } = await jwtVerify(new URLSearchParams(logouts[0]!.body).get('logout_token')!, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'benefits' });
  expect(payload.sub).toBe(person.sub);
  expect(await eventsFor(person)).toContainEqual(ASSURANCE_DOWN);
});

test('when a verified person recovers their account with a recovery code, then the agency\'s IAL2 tokens stop (the identity waits for the personal key)', async () => {
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const email = `r-${Date.now()}@example.com`;
  const first = await agency.authorize();
  const { agent, recoveryCodes } = await signUp({ server, authenticator, authUrl: first.url, email });
  await verifyIdentity({ server, agent, authenticator });
  const auth = await agency.authorize(IAL2);
  const tokens = await agency.redeem(await finishAtAgency(agent, server, auth.url), auth);
  expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified');

  // Every passkey lost: a recovery code and a new passkey, in another browser.
  const other = new Agent();
  const fresh = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const again = await agency.authorize();
  const url = await openAuthorization(other, server, again.url);
  const base = `${server.url}/interaction/${interactionUid(url)}`;
  await other.page(`${base}/recovery`);
  expect((await other.request(`${base}/recovery`, { method: 'POST', form: { email, code: recoveryCodes[0]! } })).status).toBe(303);
  await other.page(`${base}/recovery/passkey`);
  const options = await other.request(`${base}/recovery/passkey/options`, { method: 'POST', json: {} });
  const done = await other.request(`${base}/recovery/passkey`, { method: 'POST', form: { response: JSON.stringify(fresh.createCredential({ options: await options.json() })), name: 'New' } });
  expect(done.status).toBe(303);
  await expectDead(tokens);
  const account = await server.ds.getRepository(Account).findOneByOrFail({ email });
  const events = (await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: account.id, clientId: 'benefits' })).map((e) => [e.eventType, JSON.parse(e.details)]);
  expect(events).toContainEqual(ASSURANCE_DOWN);
});

test('when the verification gets older than the agency\'s verified_within, then a refresh, userinfo and introspection no longer carry IAL2', async () => {
  const { tokens } = await verifiedWithTokens({ verified_within: '30d' });
  clock.advance(31 * 86400 * 1000);
  await expectDead(tokens);
});

test('when an agency asked no verified_within, then an IAL2 refresh keeps working as long as the identity stays', async () => {
  const { person, tokens } = await verifiedWithTokens();
  clock.advance(31 * 86400 * 1000);
  const refreshed = await oidc.refreshTokenGrant(agency.config, tokens.refresh_token!);
  expect(refreshed.claims()!.acr).toBe('urn:acr.login.gov:verified');
  const info = await oidc.fetchUserInfo(agency.config, refreshed.access_token, person.sub);
  expect(info['ial']).toBe('http://idmanagement.gov/ns/assurance/ial/2');
});

test('when a person deletes their verified identity, then an IAL1 authorization at the agency keeps working', async () => {
  const person = await newPerson(server, agency);
  await verifyIdentity({ server, agent: person.agent, authenticator: person.authenticator });
  const auth = await agency.authorize({ scope: 'openid email offline_access', prompt: 'consent' });
  const tokens = await agency.redeem(await finishAtAgency(person.agent, server, auth.url), auth);
  expect(tokens.claims()!.acr).toBe('urn:onedoor:ial:1');
  await person.agent.page(`${server.url}/account`);
  expect((await person.agent.request(`${server.url}/account/identity/delete`, { method: 'POST', form: { confirm: 'yes' } })).status).toBe(303);
  const refreshed = await oidc.refreshTokenGrant(agency.config, tokens.refresh_token!);
  expect(refreshed.claims()!.acr).toBe('urn:onedoor:ial:1');
  const info = await oidc.fetchUserInfo(agency.config, refreshed.access_token, person.sub);
  expect(info['verified_at']).toBeUndefined();
  expect(info.email).toBe(person.email);
});

describe('under a delegation (IAL2 needs both people verified)', () => {
  let helped: TestAgency;
  beforeAll(async () => {
    helped = await registerAgency(server, { clientId: 'benefits-helpers', extra: { max_ial: 2, delegation_enabled: true } });
  });

  async function delegatedIal2() {
    const deps = delegationDepsFor(server);
    const principal = await newPerson(server, helped);
    const helper = await newPerson(server, helped);
    await verifyIdentity({ server, agent: principal.agent, authenticator: principal.authenticator });
    await verifyIdentity({ server, agent: helper.agent, authenticator: helper.authenticator, person: SANDBOX_PEOPLE[1], ssn: '321-54-9876' });
    const d = await delegateTo(deps, server, { principal, helper, scopes: ['email', 'profile', 'offline_access'] });
    const { tokens } = await chooseAndRedeem(server, { helper, agency: helped, choice: d.id, params: { acr_values: 'urn:acr.login.gov:verified', scope: 'openid profile offline_access', prompt: 'login consent' } });
    expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified');
    expect(tokens.refresh_token).toBeDefined();
    return { principal, helper, tokens };
  }

  test.each([['the principal'], ['the helper']])('when %s deletes their verified identity, then the delegated IAL2 tokens stop', async (who) => {
    const { principal, helper, tokens } = await delegatedIal2();
    const person = who === 'the principal' ? principal : helper;
    await person.agent.page(`${server.url}/account`);
    expect((await person.agent.request(`${server.url}/account/identity/delete`, { method: 'POST', form: { confirm: 'yes' } })).status).toBe(303);
    await expect(oidc.refreshTokenGrant(helped.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(helped.config, tokens.access_token)).active).toBe(false);
    expect((await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
  });
});
