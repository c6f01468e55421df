import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { AuditEvent, PhoneRequest } from '../../entities/index.js';
import { purgePhoneRequests } from '../../src/phone/purgePhoneRequests.js';
import { clock } from '../../src/shared/clock.js';
import type { TestAgency } from '../support/agency.js';
import { Agent } from '../support/agent.js';
import { newPerson, type TestPerson } from '../support/delegationFlow.js';
import { type AgencySite, approveOnPage, oauthError, type PhoneAgency, phoneLinkMailedTo, phoneMailCount, refuseOnPage, registerPhoneAgency, registerSignInClient, startAgencySite } from '../support/phoneAgency.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * The phone channel's rules and what an attacker can try: the protocol errors of CIBA Core §13,
 * the limits (per client, per person and agency, open requests), "I did not call", and the
 * approval pages against someone else's request, replays and forgeries.
 */
let server: TestServer;
let site: AgencySite;
let otherSite: AgencySite;
let signIn: TestAgency;
let phone: PhoneAgency;
let otherPhone: PhoneAgency;

beforeAll(async () => {
  server = await startTestServer();
  site = await startAgencySite();
  otherSite = await startAgencySite();
  signIn = await registerSignInClient(server, site, { clientId: 'rules-web', extra: { client_name: 'Benefits Agency' } });
  phone = await registerPhoneAgency(server, site, { clientId: 'rules-phone', extra: { client_name: 'Benefits Agency' } });
  otherPhone = await registerPhoneAgency(server, otherSite, { clientId: 'tax-phone', extra: { client_name: 'Tax Agency' } });
});
afterAll(async () => {
  await site.close();
  await otherSite.close();
  await server.close();
});
afterEach(() => clock.reset());

const person = () => newPerson(server, signIn);
const nobody = () => `nobody-${randomUUID().slice(0, 8)}@example.com`;

async function asked(agency: PhoneAgency, who: TestPerson, params: Record<string, string> = {}) {
  const seen = phoneMailCount(server.outboxDir, who.email);
  const response = await agency.ask({ login_hint: who.email, ...params });
  const { url } = await phoneLinkMailedTo(server.outboxDir, who.email, seen);
  return { response, url };
}

/** What the agency gets for a request: `ok`, or the OAuth error and HTTP status. */
async function outcome(agency: PhoneAgency, params: Record<string, string>): Promise<string> {
  const e = await agency.ask(params).then(() => undefined, (err: unknown) => err);
  if (!e) return 'ok';
  const { error, status } = await oauthError(Promise.reject(e));
  return `${error} ${status}`;
}

describe('requests the endpoint refuses (CIBA Core §13), before anyone is looked up', () => {
  const cases: Array<[string, string, Record<string, string>]> = [
    ['no binding_message', 'invalid_binding_message', { binding_message: '' }],
    ['a binding_message of 21 characters', 'invalid_binding_message', { binding_message: 'BLUE-41271234567890AB' }],
    ['a binding_message with other characters', 'invalid_binding_message', { binding_message: 'BLUE_4127' }],
    ['a binding_message with markup', 'invalid_binding_message', { binding_message: '<b>BLUE</b>' }],
    ['a binding_message of spaces only', 'invalid_binding_message', { binding_message: '   ' }],
    ['requested_expiry over 600 seconds', 'invalid_request', { requested_expiry: '601' }],
    ['requested_expiry that is not a positive number', 'invalid_request', { requested_expiry: '-5' }],
    ['a user_code', 'invalid_request', { user_code: '1234' }],
    ['a request_context', 'invalid_request', { request_context: '{}' }],
    ['IAL2 from a client registered for IAL1', 'invalid_request', { acr_values: 'urn:onedoor:ial:2' }],
    ['a PIV/CAC acr value', 'invalid_request', { acr_values: 'http://idmanagement.gov/ns/assurance/aal/2?hspd12=true' }],
    ['offline_access', 'invalid_scope', { scope: 'openid email offline_access' }],
    ['a PIV/CAC scope', 'invalid_scope', { scope: 'openid x509' }],
    ['no openid scope', 'invalid_request', { scope: 'email' }],
  ];

  test.each(cases)('when the request has %s, then it is refused with %s and nobody is asked', async (_name, error, params) => {
    const who = await person();
    const before = await server.ds.getRepository(PhoneRequest).count();
    const { binding_message, ...rest } = params;
    const sent = binding_message === '' ? rest : params;
    const err = await oauthError(oidc.initiateBackchannelAuthentication(phone.config, { scope: 'openid email', login_hint: who.email, ...(binding_message === '' ? {} : { binding_message: 'BLUE-4127' }), ...sent }));
    expect(err.error).toBe(error);
    expect(await server.ds.getRepository(PhoneRequest).count()).toBe(before);
    expect(phoneMailCount(server.outboxDir, who.email)).toBe(0);
  });

  test('when the hint is neither an email address nor a subject, or there are two hints, or a login_hint_token, then it is invalid_request', async () => {
    expect(await outcome(phone, { login_hint: 'John Smith' })).toBe('invalid_request 400');
    expect(await outcome(phone, { login_hint: `${'a'.repeat(5000)}@example.com` })).toBe('invalid_request 400');
    expect(await outcome(phone, { login_hint: nobody(), login_hint_token: 'x.y.z' })).toBe('invalid_request 400');
    expect(await outcome(phone, { login_hint_token: 'x.y.z' })).toBe('invalid_request 400');
    expect(await outcome(phone, {})).toBe('invalid_request 400');
  });

  test('when the subject is not a person connected to this agency (made up, or given to another agency), then it is unknown_user_id', async () => {
    const who = await person();
    expect(await outcome(phone, { login_hint: 'A'.repeat(43) })).toBe('unknown_user_id 400');
    // The same person's subject at another agency (another sector) names nobody here.
    const elsewhere = await registerSignInClient(server, otherSite, { clientId: `tax-web-${randomUUID().slice(0, 4)}` });
    const there = await newPerson(server, elsewhere);
    expect(await outcome(phone, { login_hint: there.sub })).toBe('unknown_user_id 400');
    // After the person disconnects the agency, its subject no longer reaches them.
    const page = await who.agent.page(`${server.url}/account`);
    const grant = page.html.match(/\/account\/agencies\/([^/]+)\/disconnect/)![1]!;
    expect((await who.agent.request(`${server.url}/account/agencies/${grant}/disconnect`, { method: 'POST', form: {} })).status).toBe(303);
    expect(await outcome(phone, { login_hint: who.sub })).toBe('unknown_user_id 400');
    // Their email address still does (they are asked, and can refuse).
    expect(await outcome(phone, { login_hint: who.email })).toBe('ok');
  });

  test('when an ID token issued to another client is sent as id_token_hint, then it is refused', async () => {
    const who = await person();
    const a = await signIn.authorize();
    const { landing } = await (await import('../support/flows.js')).signIn({ server, authenticator: who.authenticator, authUrl: a.url, agent: who.agent });
    const idToken = (await signIn.redeem(landing, a)).id_token!;
    expect(await outcome(phone, { id_token_hint: idToken })).toBe('invalid_request 400');
  });

  test('when a client without the CIBA grant asks, then it is unauthorized_client; with a bad assertion, invalid_client', async () => {
    const err = await oauthError(oidc.initiateBackchannelAuthentication(signIn.config, { scope: 'openid', login_hint: nobody(), binding_message: 'BLUE-4127' }));
    expect(err.error).toBe('unauthorized_client');
    const forged = await fetch(`${server.url}/backchannel`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: phone.clientId, scope: 'openid', login_hint: nobody(), binding_message: 'BLUE-4127', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'e30.e30.c2ln' }),
    });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: string }).error).toBe('invalid_client');
  });
});

describe('limits that say nothing about who has an account', () => {
  /** The agency's answers to a series of requests for one address, moving on 11 minutes after every third (so none stay open). */
  async function series(login: string, count: number, expireEvery = 3): Promise<string[]> {
    const results: string[] = [];
    for (let i = 1; i <= count; i += 1) {
      results.push(await outcome(phone, { login_hint: login, requested_expiry: '600' }));
      if (i % expireEvery === 0) clock.advance(11 * 60 * 1000);
    }
    return results;
  }

  test('when a fourth request is made while three are open, then it is refused with access_denied, for an address with an account and one without alike', async () => {
    const who = await person();
    const known = await series(who.email, 4, 100);
    const unknown = await series(nobody(), 4, 100);
    expect(known).toEqual(['ok', 'ok', 'ok', 'access_denied 403']);
    expect(unknown).toEqual(known);
  });

  test('when the person answers one of three open requests, then a new one is accepted', async () => {
    const who = await person();
    const { url } = await asked(phone, who);
    await phone.ask({ login_hint: who.email });
    await phone.ask({ login_hint: who.email });
    expect(await outcome(phone, { login_hint: who.email })).toBe('access_denied 403');
    await refuseOnPage(who.agent, url, 'deny');
    expect(await outcome(phone, { login_hint: who.email })).toBe('ok');
  });

  test('when an agency sends an eleventh request in a day to one person, then it is refused, for an address with an account and one without alike, and the next day it is accepted', async () => {
    const who = await person();
    const known = await series(who.email, 11);
    clock.reset();
    const unknown = await series(nobody(), 11);
    expect(known).toEqual([...Array(10).fill('ok'), 'access_denied 403']);
    expect(unknown).toEqual(known);
    // Another agency is counted on its own.
    expect(await outcome(otherPhone, { login_hint: who.email })).toBe('ok');
    clock.advance(24 * 3600 * 1000);
    expect(await outcome(phone, { login_hint: who.email })).toBe('ok');
  });

  test('when one client sends more than 120 requests in a minute, then it gets 429 with Retry-After until the minute is over', async () => {
    const fast = await registerPhoneAgency(server, site, { clientId: `fast-${randomUUID().slice(0, 6)}` });
    const results: string[] = [];
    for (let i = 0; i < 121; i += 1) results.push(await outcome(fast, { login_hint: nobody() }));
    expect(results.slice(0, 120).every((r) => r === 'ok')).toBe(true);
    expect(results[120]).toBe('too_many_requests 429');
    expect(Number((await oauthError(fast.ask({ login_hint: nobody() }))).retryAfter)).toBeGreaterThan(0);
    clock.advance(61 * 1000);
    expect(await outcome(fast, { login_hint: nobody() })).toBe('ok');
  });
});

describe('"I did not call"', () => {
  test('when the person says they did not call, then the agency is told so, it is in their history, and that agency\'s requests to them are refused for a day while others still reach them', async () => {
    const who = await person();
    const { response, url } = await asked(phone, who);
    const refused = await refuseOnPage(who.agent, url, 'not-me');
    expect(refused.html).toContain('data-outcome="not_me"');
    const err = await oauthError(phone.pollOnce(response.auth_req_id));
    expect(err).toMatchObject({ error: 'access_denied' });
    expect(err.error_description).toContain('not on a call with your agency');
    expect((await server.ds.getRepository(AuditEvent).findBy({ accountId: who.account.id })).map((e) => e.type)).toContain('phone_not_me');
    expect(await outcome(phone, { login_hint: who.email })).toBe('access_denied 403');
    expect(await outcome(phone, { login_hint: who.sub })).toBe('access_denied 403');
    expect(await outcome(otherPhone, { login_hint: who.email })).toBe('ok');
    clock.advance(24 * 3600 * 1000 + 1000);
    expect(await outcome(phone, { login_hint: who.email })).toBe('ok');
  });
});

describe('the approval page against someone else', () => {
  test('when another person opens, approves or refuses a request that is not theirs, then it is not found and the request stays open', async () => {
    const owner = await person();
    const other = await person();
    const { response, url } = await asked(phone, owner);
    expect((await other.agent.page(url)).status).toBe(404);
    const options = await other.agent.request(`${url}/options`, { method: 'POST', json: {} });
    expect(options.status).toBe(404);
    // An assertion of the other person's own passkey, for their own challenge, cannot answer it either.
    await other.agent.page(`${server.url}/account`);
    const ownOptions = await other.agent.request(`${server.url}/account/reauth/options`, { method: 'POST', json: {} });
    const assertion = other.authenticator.getAssertion({ options: await ownOptions.json() });
    expect((await other.agent.request(`${url}/approve`, { method: 'POST', form: { response: JSON.stringify(assertion) } })).status).toBe(404);
    for (const action of ['deny', 'not-me', 'unmet']) expect((await other.agent.request(`${url}/${action}`, { method: 'POST', form: {} })).status).toBe(404);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
    expect((await server.ds.getRepository(PhoneRequest).findOneByOrFail({ authReqId: response.auth_req_id })).status).toBe('pending');
  });

  test('when nobody is signed in, or the CSRF token is missing, or the id is not a request id, then nothing is answered', async () => {
    const owner = await person();
    const { response, url } = await asked(phone, owner);
    const stranger = new Agent();
    await stranger.page(`${server.url}/`);
    expect((await stranger.request(`${url}/deny`, { method: 'POST', form: {} })).status).toBe(400);
    await owner.agent.page(url);
    const forged = await owner.agent.request(`${url}/deny`, { method: 'POST', body: new URLSearchParams({}).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(forged.status).toBe(403);
    expect((await owner.agent.page(`${server.url}/phone/not-a-request`)).status).toBe(404);
    expect((await owner.agent.page(`${server.url}/phone/..%2F..%2Faccount`)).status).toBe(404);
    expect((await owner.agent.page(`${server.url}/phone/${randomUUID()}`)).status).toBe(404);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
  });

  test('when a passkey assertion made for one request is sent for another, or none is sent, then that one is not approved', async () => {
    const owner = await person();
    const first = await asked(phone, owner);
    const second = await asked(phone, owner);
    await owner.agent.page(first.url);
    const options = await owner.agent.request(`${first.url}/options`, { method: 'POST', json: {} });
    const assertion = owner.authenticator.getAssertion({ options: await options.json() });
    const wrong = await owner.agent.request(`${second.url}/approve`, { method: 'POST', form: { response: JSON.stringify(assertion) } });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('We could not confirm that it is you with that passkey');
    const none = await owner.agent.request(`${second.url}/approve`, { method: 'POST', form: {} });
    expect(none.status).toBe(400);
    expect(await oauthError(phone.pollOnce(second.response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
  });

  test('when the person approves twice, or declines after approving, then the first answer stands and the tokens are issued once', async () => {
    const owner = await person();
    const { response, url } = await asked(phone, owner);
    expect((await approveOnPage(owner.agent, owner.authenticator, url)).html).toContain('data-outcome="approved"');
    const page = await owner.agent.page(url);
    expect(page.html).toContain('data-outcome="approved"');
    expect((await owner.agent.request(`${url}/deny`, { method: 'POST', form: {} })).status).toBe(200);
    const tokens = await phone.poll(response);
    expect(tokens.access_token).toBeTruthy();
    expect((await server.ds.getRepository(PhoneRequest).findOneByOrFail({ authReqId: response.auth_req_id })).status).toBe('approved');
  });

  test('when the person names a delegation they do not hold, then nothing is approved', async () => {
    const owner = await person();
    const { response, url } = await asked(phone, owner);
    const res = await approveOnPage(owner.agent, owner.authenticator, url, { actor: randomUUID() });
    expect(res.status).toBe(400);
    expect(res.html).toContain('Choose yourself or one of the people you help at this agency.');
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
  });
});

describe('what is kept', () => {
  test('when a request for an address without an account has expired, then it is purged; a person\'s requests stay a day longer (for "I did not call")', async () => {
    const who = await person();
    const known = await asked(phone, who, { requested_expiry: '60' });
    const unknown = await phone.ask({ login_hint: nobody(), requested_expiry: '60' });
    const stored = (authReqId: string) => server.ds.getRepository(PhoneRequest).findOneBy({ authReqId });
    clock.advance(61 * 1000);
    await purgePhoneRequests({ db: server.ds });
    expect(await stored(unknown.auth_req_id)).toBeNull();
    expect(await stored(known.response.auth_req_id)).not.toBeNull();
    clock.advance(24 * 3600 * 1000);
    await purgePhoneRequests({ db: server.ds });
    expect(await stored(known.response.auth_req_id)).toBeNull();
  });
});

