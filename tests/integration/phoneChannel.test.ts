import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import * as oidc from 'openid-client';
import { AuditEvent, PhoneRequest } from '../../entities/index.js';
import { clock } from '../../src/shared/clock.js';
import { logger } from '../../src/shared/logger.js';
import type { TestAgency } from '../support/agency.js';
import { Agent } from '../support/agent.js';
import { newPerson, type TestPerson } from '../support/delegationFlow.js';
import { interactionUid } from '../support/flows.js';
import { type AgencySite, approveOnPage, mailsTo, oauthError, type PhoneAgency, phoneLinkMailedTo, phoneMailCount, refuseOnPage, registerPhoneAgency, registerSignInClient, startAgencySite } from '../support/phoneAgency.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * The phone channel (OpenID Connect CIBA Core 1.0), end to end over HTTP: an agency's back end
 * asks with openid-client's CIBA functions, the person answers on OneDoor's approval page with
 * their passkey, the agency polls and gets tokens — or the matching error.
 */
let server: TestServer;
let site: AgencySite;
let signIn: TestAgency;
let phone: PhoneAgency;

beforeAll(async () => {
  server = await startTestServer();
  site = await startAgencySite();
  signIn = await registerSignInClient(server, site, { clientId: 'benefits-web', extra: { client_name: 'Benefits Agency' } });
  phone = await registerPhoneAgency(server, site, { clientId: 'benefits-phone', extra: { client_name: 'Benefits Agency' } });
});
afterAll(async () => {
  await site.close();
  await server.close();
});
afterEach(() => { clock.reset(); jest.restoreAllMocks(); });

/** A person who signed up at the agency's website (so the agency knows their `sub`). */
const person = () => newPerson(server, signIn);

/** The agency asks about `who`; returns its answer and the approval link mailed to them. */
async function askAbout(who: TestPerson, params: Record<string, string> = {}) {
  const seen = phoneMailCount(server.outboxDir, who.email);
  const response = await phone.ask({ login_hint: who.email, ...params });
  const { url, mail } = await phoneLinkMailedTo(server.outboxDir, who.email, seen);
  return { response, url, mail };
}

async function history(accountId: string): Promise<string[]> {
  return (await server.ds.getRepository(AuditEvent).find({ where: { accountId }, order: { at: 'ASC' } })).map((e) => e.type);
}

describe('the agency side', () => {
  test('when an agency reads discovery, then it finds the backchannel authentication endpoint, poll and ping, no user codes, and the CIBA grant', () => {
    const meta = phone.config.serverMetadata();
    expect(meta.backchannel_authentication_endpoint).toBe(`${server.url}/backchannel`);
    expect(meta.backchannel_token_delivery_modes_supported).toEqual(['poll', 'ping']);
    expect(meta['backchannel_user_code_parameter_supported']).toBe(false);
    expect(meta.grant_types_supported).toContain('urn:openid:params:grant-type:ciba');
  });

  test('when the agency asks with the caller\'s email, then it gets an auth_req_id, 300 seconds and a 5-second interval, and polling says authorization_pending', async () => {
    const who = await person();
    const { response } = await askAbout(who);
    expect(Object.keys(response).sort()).toEqual(['auth_req_id', 'expires_in', 'interval']);
    expect(response.expires_in).toBe(300);
    expect(response.interval).toBe(5);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
  });
});

describe('the person approves', () => {
  test('when the person opens the mailed link, sees the agency, the binding message and the warning, and approves with their passkey, then the agency\'s poll returns their tokens', async () => {
    const who = await person();
    const { response, url, mail } = await askAbout(who, { acr_values: 'urn:onedoor:ial:1' });
    // The mail carries the link only: no binding message, nothing the agency holds.
    expect(mail).toContain('Confirm your identity to Benefits Agency');
    expect(mail).not.toContain('BLUE-4127');
    expect(mail).not.toContain(response.auth_req_id);

    const page = await who.agent.page(url);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Confirm your identity to Benefits Agency?');
    expect(page.html).toMatch(/data-testid="binding-message">BLUE-4127</);
    expect(page.html).toContain('Approve only if you are on the phone with Benefits Agency now and the agent read you this code. Agencies never ask you to approve a request they did not read to you.');
    expect(page.html).toContain('Your email address');

    const approved = await approveOnPage(who.agent, who.authenticator, url);
    expect(approved.status).toBe(200);
    expect(approved.html).toContain('data-outcome="approved"');

    const tokens = await phone.poll(response);
    const claims = tokens.claims()!;
    // The same pairwise subject as the agency's website: one sector.
    expect(claims.sub).toBe(who.sub);
    expect(claims.acr).toBe('urn:onedoor:ial:1');
    expect(claims['amr']).toEqual(['pop', 'swk', 'user']);
    expect(Math.abs((claims.auth_time as number) - Math.floor(Date.now() / 1000))).toBeLessThan(60);
    expect(tokens.refresh_token).toBeUndefined();
    const userinfo = await oidc.fetchUserInfo(phone.config, tokens.access_token, claims.sub);
    expect(userinfo.email).toBe(who.email);
    expect(await history(who.account.id)).toEqual(expect.arrayContaining(['phone_request_received', 'phone_confirmed']));
    // The tokens are issued once.
    clock.advance(5000);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'invalid_grant' });
  });

  test('when the person was not signed in, then the mailed link signs them in with their passkey and comes back to the approval page', async () => {
    const who = await person();
    const { url } = await askAbout(who);
    const fresh = new Agent();
    const first = await fresh.request(url);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`/account/signin?return=${encodeURIComponent(new URL(url).pathname)}`);
    const login = await fresh.follow(new URL(first.headers.get('location')!, server.url).toString(), server.url);
    await fresh.page(login.url);
    const base = `${server.url}/interaction/${interactionUid(login.url)}`;
    const options = await fresh.request(`${base}/passkey/options`, { method: 'POST', json: {} });
    const done = await fresh.request(`${base}/passkey`, { method: 'POST', form: { response: JSON.stringify(who.authenticator.getAssertion({ options: await options.json() })) } });
    expect(done.status).toBe(303);
    const back = await fresh.follow(new URL(done.headers.get('location')!, server.url).toString(), server.url);
    expect(back.url).toBe(url);
    expect(await back.res.text()).toMatch(/data-testid="binding-message">BLUE-4127</);
  });

  test('when the request is open, then it is at the top of the account page, and gone once answered', async () => {
    const who = await person();
    const { url } = await askAbout(who);
    let page = await who.agent.page(`${server.url}/account`);
    expect(page.html).toContain('data-testid="phone-requests"');
    expect(page.html).toContain(`href="${new URL(url).pathname}"`);
    expect(page.html.indexOf('phone-requests')).toBeLessThan(page.html.indexOf('passkeys-title'));
    await refuseOnPage(who.agent, url, 'deny');
    page = await who.agent.page(`${server.url}/account`);
    expect(page.html).not.toContain('data-testid="phone-requests"');
    expect(page.html).toContain('Declined a phone request from Benefits Agency');
    expect(page.html).toContain('Benefits Agency asked to confirm your identity by phone');
  });

  test('when the agency names the person by the subject it knows (login_hint = sub), then the person is asked and the tokens carry that subject', async () => {
    const who = await person();
    const seen = phoneMailCount(server.outboxDir, who.email);
    const response = await phone.ask({ login_hint: who.sub });
    const { url } = await phoneLinkMailedTo(server.outboxDir, who.email, seen);
    await approveOnPage(who.agent, who.authenticator, url);
    expect((await phone.poll(response)).claims()!.sub).toBe(who.sub);
  });

  test('when the agency sends an ID token OneDoor issued it (id_token_hint), then the person it names is asked', async () => {
    const who = await person();
    const first = await askAbout(who);
    await approveOnPage(who.agent, who.authenticator, first.url);
    const idToken = (await phone.poll(first.response)).id_token!;
    const seen = phoneMailCount(server.outboxDir, who.email);
    const again = await phone.ask({ id_token_hint: idToken }).catch((e: { cause?: unknown }) => { throw new Error(JSON.stringify(e.cause)); });
    const { url } = await phoneLinkMailedTo(server.outboxDir, who.email, seen);
    await approveOnPage(who.agent, who.authenticator, url);
    expect((await phone.poll(again)).claims()!.sub).toBe(who.sub);
  });
});

describe('the person declines, or does not answer', () => {
  test('when the person declines, then the agency\'s poll gets access_denied and the history says so', async () => {
    const who = await person();
    const { response, url } = await askAbout(who);
    const refused = await refuseOnPage(who.agent, url, 'deny');
    expect(refused.html).toContain('data-outcome="denied"');
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'access_denied' });
    expect(await history(who.account.id)).toContain('phone_denied');
  });

  test('when nobody answers before requested_expiry, then the poll says expired_token and the page says the request is no longer open', async () => {
    const who = await person();
    const { response, url } = await askAbout(who, { requested_expiry: '2' });
    expect(response.expires_in).toBe(2);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'expired_token' });
    const page = await who.agent.page(url);
    expect(page.html).toContain('data-outcome="expired"');
    const late = await approveOnPage(who.agent, who.authenticator, url).catch(() => undefined);
    expect(late).toBeUndefined(); // no approval form any more (the page is not the request page)
  });

  test('when the agency polls faster than the interval, then it gets slow_down, and after the interval it may poll again', async () => {
    const who = await person();
    const { response } = await askAbout(who);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'slow_down', status: 400 });
    clock.advance(5000);
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
  });
});

describe('an address without an account', () => {
  test('when the agency asks about an unknown address, then the answer has the same shape as for a known one, nobody is told, nothing is logged about it, and the request expires', async () => {
    const known = await person();
    const knownAnswer = await phone.ask({ login_hint: known.email, requested_expiry: '2' });
    await phoneLinkMailedTo(server.outboxDir, known.email);
    const unknown = `nobody-${randomUUID().slice(0, 8)}@example.com`;
    const events = await server.ds.getRepository(AuditEvent).count();
    const spies = (['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const).map((level) => jest.spyOn(logger, level));
    const answer = await phone.ask({ login_hint: unknown, requested_expiry: '2' });
    const logged = JSON.stringify(spies.map((s) => s.mock.calls));
    jest.restoreAllMocks();
    expect(Object.keys(answer).sort()).toEqual(Object.keys(knownAnswer).sort());
    expect(answer.expires_in).toBe(knownAnswer.expires_in);
    expect(answer.interval).toBe(knownAnswer.interval);
    expect(logged).not.toContain(unknown.split('@')[0]);
    expect(await oauthError(phone.pollOnce(answer.auth_req_id))).toMatchObject({ error: 'authorization_pending' });
    await new Promise((r) => setTimeout(r, 2500));
    clock.advance(5000); // past the poll interval
    expect(await oauthError(phone.pollOnce(answer.auth_req_id))).toMatchObject({ error: 'expired_token' });
    expect(mailsTo(server.outboxDir, unknown)).toEqual([]);
    // No history anywhere grew: nothing names the address.
    expect(await server.ds.getRepository(AuditEvent).count()).toBe(events);
    const stored = await server.ds.getRepository(PhoneRequest).findOneByOrFail({ authReqId: answer.auth_req_id });
    expect(stored).toMatchObject({ accountId: null, bindingMessage: null, scope: null });
    expect(JSON.stringify(await server.ds.query("SELECT payload FROM oidc_payloads WHERE model = 'BackchannelAuthenticationRequest'"))).not.toContain(unknown);
  });
});

describe('metrics', () => {
  /** The phone-channel counter for one event, now. */
  async function counted(event: string): Promise<number> {
    const metric = await server.app.metrics.phoneRequests.get();
    return metric.values.filter((v) => v.labels['event'] === event).reduce((sum, v) => sum + v.value, 0);
  }

  test('when requests are made, answered and polled too fast, then onedoor_phone_requests_total counts each event, an unknown address as any request', async () => {
    const before = Object.fromEntries(await Promise.all(['requested', 'approved', 'denied', 'slow_down'].map(async (e) => [e, await counted(e)] as const)));
    const who = await person();
    const first = await askAbout(who);
    await approveOnPage(who.agent, who.authenticator, first.url);
    const second = await askAbout(who);
    await refuseOnPage(who.agent, second.url, 'deny');
    const unknown = await phone.ask({ login_hint: `nobody-${randomUUID().slice(0, 8)}@example.com` });
    await oauthError(phone.pollOnce(unknown.auth_req_id));
    await oauthError(phone.pollOnce(unknown.auth_req_id));
    expect(await counted('requested') - before['requested']!).toBe(3);
    expect(await counted('approved') - before['approved']!).toBe(1);
    expect(await counted('denied') - before['denied']!).toBe(1);
    expect(await counted('slow_down') - before['slow_down']!).toBe(1);
    const text = await server.app.metrics.registry.metrics();
    expect(text).not.toMatch(/onedoor_phone_requests_total\{[^}]*@/);
  });
});

