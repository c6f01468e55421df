import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { Account, AuditEvent } from '../../entities/index.js';
import { listOwnGrants } from '../../src/accounts/listOwnGrants.js';
import { clock } from '../../src/shared/clock.js';
import type { TestAgency } from '../support/agency.js';
import { delegateTo, delegationDepsFor, newPerson, type TestPerson } from '../support/delegationFlow.js';
import { signUp } from '../support/flows.js';
import { type AgencySite, approveOnPage, oauthError, type PhoneAgency, phoneLinkMailedTo, phoneMailCount, refuseOnPage, registerPhoneAgency, registerSignInClient, startAgencySite } from '../support/phoneAgency.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { createTestCa } from '../support/testCertificates.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { jsonTrustStore, TEST_AAGUID, trustStoreDir } from '../support/trustStores.js';

/**
 * A phone request obeys the same rules as a browser sign-in: IAL2 only for a verified person
 * (else they see what to do and the agency gets unmet_authentication_requirements), AAL3 only with
 * an attested security key, and a helper confirming for a person they help gets tokens with
 * sub = the principal and act.sub = the helper, from a grant that is the delegation's, never theirs.
 */
const IAL2 = 'urn:onedoor:ial:2';
const AAL3 = 'urn:onedoor:aal:3';
const files = trustStoreDir();
const root = createTestCa({ name: 'Phone Test Attestation Root' });

let server: TestServer;
let site: AgencySite;
let signIn: TestAgency;
let phone: PhoneAgency;
let plainPhone: PhoneAgency;

beforeAll(async () => {
  const store = files.write('trust.json', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: true, attestationRootCertificates: [root.pem] }]));
  server = await startTestServer({ env: { ATTESTATION_TRUST_STORE: store } });
  site = await startAgencySite();
  const agency = { client_name: 'Benefits Agency', max_ial: 2, delegation_enabled: true };
  signIn = await registerSignInClient(server, site, { clientId: 'assured-web', extra: agency });
  phone = await registerPhoneAgency(server, site, { clientId: 'assured-phone', extra: agency });
  plainPhone = await registerPhoneAgency(server, site, { clientId: 'plain-phone', extra: { client_name: 'Permits Office', max_ial: 2 } });
});
afterAll(async () => {
  await site.close();
  await server.close();
  files.cleanup();
});
afterEach(() => clock.reset());

async function asked(agency: PhoneAgency, who: TestPerson, params: Record<string, string> = {}) {
  const seen = phoneMailCount(server.outboxDir, who.email);
  const response = await agency.ask({ login_hint: who.email, ...params });
  const { url } = await phoneLinkMailedTo(server.outboxDir, who.email, seen);
  return { response, url };
}

const historyOf = async (accountId: string) => (await server.ds.getRepository(AuditEvent).findBy({ accountId })).map((e) => e.type);

describe('identity assurance (IAL2)', () => {
  test('when IAL2 is asked of a person who is not verified, then they see what to do, cannot approve, and "I can\'t" gives the agency unmet_authentication_requirements', async () => {
    const who = await newPerson(server, signIn);
    const { response, url } = await asked(phone, who, { acr_values: IAL2 });
    const page = await who.agent.page(url);
    expect(page.html).toContain('Benefits Agency needs a verified identity');
    expect(page.html).toContain('href="/verify"');
    expect(page.html).not.toContain('data-webauthn');
    // Sending an approval anyway does not get past the rule.
    const forced = await approveOnPage(who.agent, who.authenticator, url);
    expect(forced.status).toBe(400);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
    const unmet = await refuseOnPage(who.agent, url, 'unmet');
    expect(unmet.html).toContain('data-outcome="unmet"');
    clock.advance(5000);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'unmet_authentication_requirements' });
    expect(await historyOf(who.account.id)).toContain('phone_unmet');
  });

  test('when IAL2 is asked of a verified person, then they are also texted at their verified phone, and the tokens say IAL2 and release their verified name — for as long as the identity holds', async () => {
    const who = await newPerson(server, signIn);
    await verifyIdentity({ server, agent: who.agent, authenticator: who.authenticator, phone: '(202) 555-0142' });
    const texts = () => fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('-sms.txt')).map((f) => fs.readFileSync(path.join(server.outboxDir, f), 'utf8'));
    const before = texts().length;
    const { response, url } = await asked(phone, who, { acr_values: IAL2, scope: 'openid profile:name' });
    for (let i = 0; i < 100 && texts().length === before; i += 1) await new Promise((r) => setTimeout(r, 50));
    const text = texts().at(-1)!;
    expect(text).toContain('To: +12025550142');
    expect(text).toContain(new URL(url).pathname);
    expect(text).not.toContain('BLUE-4127');
    await approveOnPage(who.agent, who.authenticator, url);
    const tokens = await phone.poll(response);
    expect(tokens.claims()!.acr).toBe(IAL2);
    const info = await oidc.fetchUserInfo(phone.config, tokens.access_token, tokens.claims()!.sub);
    expect(info.given_name).toBeTruthy();
    // The person deletes their verified identity: the IAL2 token no longer works.
    await who.agent.page(`${server.url}/account`);
    expect((await who.agent.request(`${server.url}/account/identity/delete`, { method: 'POST', form: { confirm: 'yes' } })).status).toBe(303);
    expect(await oauthError(oidc.fetchUserInfo(phone.config, tokens.access_token, tokens.claims()!.sub))).toMatchObject({ status: 401 });
  });
});

describe('authentication assurance (AAL3)', () => {
  test('when AAL3 is asked of a person with only a synced passkey, then they are told a security key is needed and the agency gets unmet_authentication_requirements', async () => {
    const who = await newPerson(server, signIn);
    const { response, url } = await asked(phone, who, { acr_values: AAL3 });
    const page = await who.agent.page(url);
    expect(page.html).toContain('Benefits Agency needs a security key');
    expect(page.html).toContain('href="/account/passkeys/new"');
    // An assertion of the synced passkey, sent anyway, does not approve it.
    const forced = await approveOnPage(who.agent, who.authenticator, url);
    expect(forced.status).toBe(400);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
    clock.advance(5000);
    await refuseOnPage(who.agent, url, 'unmet');
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'unmet_authentication_requirements' });
  });

  test('when AAL3 is asked of a person with an attested security key, then they approve with that key and the tokens say AAL3 with amr hwk', async () => {
    const key = new SoftAuthenticator({ origin: server.url, rpId: 'localhost', backupEligible: false, attestation: { ca: root, aaguid: TEST_AAGUID } });
    const email = `key-${randomUUID().slice(0, 8)}@example.com`;
    const a = await signIn.authorize();
    const { agent, landing } = await signUp({ server, authenticator: key, authUrl: a.url, email });
    const sub = (await signIn.redeem(landing, a)).claims()!.sub;
    const account = await server.ds.getRepository(Account).findOneByOrFail({ email });
    const who: TestPerson = { authenticator: key, agent, email, account, sub };
    const { response, url } = await asked(phone, who, { acr_values: AAL3 });
    expect((await approveOnPage(agent, key, url)).html).toContain('data-outcome="approved"');
    const claims = (await phone.poll(response)).claims()!;
    expect(claims.acr).toBe(AAL3);
    expect(claims['amr']).toEqual(['pop', 'hwk', 'user']);
  });
});

describe('a helper confirming for a person they help', () => {
  test('when the helper chooses the person they help, then the tokens carry sub = that person, act.sub = the helper and the delegation, both histories say so, and the grant is never the helper\'s own', async () => {
    const principal = await newPerson(server, signIn);
    const helper = await newPerson(server, signIn);
    const delegation = await delegateTo(delegationDepsFor(server), server, { principal, helper, scopes: ['email'] });
    const { response, url } = await asked(phone, helper);
    const page = await helper.agent.page(url);
    expect(page.html).toContain('Who is this confirmation for?');
    expect(page.html).toContain(principal.email);
    expect((await approveOnPage(helper.agent, helper.authenticator, url, { actor: delegation.id })).html).toContain('data-outcome="approved"');
    const tokens = await phone.poll(response);
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(principal.sub);
    expect(claims['act']).toEqual({ sub: helper.sub });
    expect(claims['delegation']).toMatchObject({ id: delegation.id, scopes: ['email'] });
    const info = await oidc.fetchUserInfo(phone.config, tokens.access_token, principal.sub);
    expect(info.email).toBe(principal.email);
    expect(await historyOf(principal.account.id)).toContain('delegation_used');
    expect(await historyOf(helper.account.id)).toContain('phone_confirmed_for');
    expect((await listOwnGrants({ db: server.ds, accountId: helper.account.id, clientId: phone.clientId }))).toEqual([]);
    // The helper's next confirmation as themself carries their own subject and no act.
    const own = await asked(phone, helper);
    await approveOnPage(helper.agent, helper.authenticator, own.url, { actor: 'self' });
    const mine = (await phone.poll(own.response)).claims()!;
    expect(mine.sub).toBe(helper.sub);
    expect(mine['act']).toBeUndefined();
    // Revoking the delegation stops what was issued under it at once.
    await principal.agent.page(`${server.url}/helpers`);
    expect((await principal.agent.request(`${server.url}/helpers/${delegation.id}/revoke`, { method: 'POST', form: {} })).status).toBe(303);
    expect(await oauthError(oidc.fetchUserInfo(phone.config, tokens.access_token, principal.sub))).toMatchObject({ status: 401 });
  });

  test('when the agency did not enable delegation, then there is no choice and naming the delegation approves nothing', async () => {
    const principal = await newPerson(server, signIn);
    const helper = await newPerson(server, signIn);
    const delegation = await delegateTo(delegationDepsFor(server), server, { principal, helper, scopes: ['email'] });
    const { response, url } = await asked(plainPhone, helper);
    expect((await helper.agent.page(url)).html).not.toContain('Who is this confirmation for?');
    const res = await approveOnPage(helper.agent, helper.authenticator, url, { actor: delegation.id });
    expect(res.status).toBe(400);
    expect(await oauthError(plainPhone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
  });

  test('when IAL2 is asked and the person helped is not verified, then the choice says so and approving for them is refused, while the verified helper may confirm as themself', async () => {
    const principal = await newPerson(server, signIn);
    const helper = await newPerson(server, signIn);
    await verifyIdentity({ server, agent: helper.agent, authenticator: helper.authenticator });
    const delegation = await delegateTo(delegationDepsFor(server), server, { principal, helper, scopes: ['email'] });
    const { response, url } = await asked(phone, helper, { acr_values: IAL2 });
    expect((await helper.agent.page(url)).html).toContain('This person has not verified their identity as this agency asks.');
    const refused = await approveOnPage(helper.agent, helper.authenticator, url, { actor: delegation.id });
    expect(refused.status).toBe(400);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
    await approveOnPage(helper.agent, helper.authenticator, url, { actor: 'self' });
    clock.advance(5000);
    const claims = (await phone.poll(response)).claims()!;
    expect(claims.sub).toBe(helper.sub);
    expect(claims.acr).toBe(IAL2);
  });
});
