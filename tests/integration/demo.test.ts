import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { type Agency, createAgency } from '../../demo/agency.js';
import { demoClientFile, demoPhoneClientFile } from '../../demo/demoClientFile.js';
import { approveOnPage, phoneLinkMailedTo } from '../support/phoneAgency.js';
import { Agent } from '../support/agent.js';
import { signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * The sample agency of `npm run demo` (demo/agency.ts), in-process on a random port, against
 * OneDoor in-process: what an agency developer copies must work end to end.
 */

let server: TestServer;
let agency: Agency;

beforeAll(async () => {
  server = await startTestServer();
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid: 'demo-agency-test', alg: 'ES256', use: 'sig' };
  agency = await createAgency({ issuer: server.url, clientId: 'demo-agency', privateJwk, port: 0, log: () => {}, phoneClientId: 'demo-agency-phone' });
  await server.addClient(demoClientFile({ agencyUrl: agency.url, publicJwk: privateJwk }));
  await server.addClient(demoPhoneClientFile({ agencyUrl: agency.url }));
});
afterAll(async () => {
  await agency.close();
  await server.close();
});

const email = () => `person-${randomUUID().slice(0, 8)}@example.com`;

/** Presses "Sign in with OneDoor"; returns where the agency sends the browser. */
async function pressSignIn(agent: Agent, acr = 'urn:onedoor:ial:1'): Promise<URL> {
  const res = await agent.request(`${agency.url}/login?acr=${encodeURIComponent(acr)}`);
  expect(res.status).toBe(303);
  return new URL(res.headers.get('location')!);
}

/** A new person signs up at OneDoor from the agency's button; returns the agency callback URL they land on. */
async function signUpFromAgency(agent = new Agent(), personEmail = email()) {
  const authUrl = await pressSignIn(agent);
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const { landing } = await signUp({ server, authenticator, authUrl: authUrl.toString(), email: personEmail, agent });
  expect(landing.startsWith(`${agency.url}/callback?`)).toBe(true);
  return { agent, landing, email: personEmail, authenticator };
}

/** A signed-in session at the agency: the person signed up and the callback succeeded. */
async function signedInAtAgency() {
  const person = await signUpFromAgency();
  const res = await person.agent.request(person.landing);
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/');
  const page = await person.agent.page(`${agency.url}/`);
  expect(page.html).toContain(person.email);
  const sid = page.html.match(/&quot;sid&quot;: &quot;([^&]+)&quot;/)?.[1];
  expect(sid).toBeDefined();
  return { ...person, sid };
}

describe('the demo agency', () => {
  test('when nobody is signed in, then the home page shows the Sign in with OneDoor button and the acr choices', async () => {
    const page = await new Agent().page(`${agency.url}/`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Sign in with OneDoor');
    expect(page.html).toContain('value="urn:onedoor:ial:1"');
    expect(page.html).toContain('value="urn:acr.login.gov:auth-only"');
    expect(page.html).not.toContain('<script');
  });

  test('when the button is pressed, then the agency redirects to OneDoor /auth with PKCE S256, state, nonce, the chosen acr and openid email', async () => {
    const agent = new Agent();
    const url = await pressSignIn(agent, 'urn:acr.login.gov:auth-only');
    expect(`${url.origin}${url.pathname}`).toBe(`${server.url}/auth`);
    const p = url.searchParams;
    expect(p.get('client_id')).toBe('demo-agency');
    expect(p.get('response_type')).toBe('code');
    expect(p.get('redirect_uri')).toBe(agency.redirectUri);
    expect(p.get('scope')).toBe('openid email');
    expect(p.get('acr_values')).toBe('urn:acr.login.gov:auth-only');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(p.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(agent.cookieHeader()).toMatch(/agency_session=/);
    // Following it reaches OneDoor's own sign-in page.
    const { url: landed, res } = await agent.follow(url.toString(), server.url);
    expect(res.status).toBe(200);
    expect(landed).toMatch(new RegExp(`^${server.url}/interaction/`));
  });

  test('when an acr value that is not offered is asked for, then the agency refuses', async () => {
    const res = await new Agent().request(`${agency.url}/login?acr=urn:example:made-up`);
    expect(res.status).toBe(400);
  });

  test('when a new person signs up at OneDoor, then the agency shows the ID token claims and userinfo with their email and sub', async () => {
    const person = await signUpFromAgency();
    const res = await person.agent.request(person.landing);
    expect(res.status).toBe(303);
    const page = await person.agent.page(`${agency.url}/`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('ID token claims');
    expect(page.html).toContain(person.email);
    expect(page.html).toMatch(/&quot;sub&quot;: &quot;[^&]+&quot;/);
    expect(page.html).toContain('&quot;acr&quot;: &quot;urn:onedoor:ial:1&quot;');
    expect(page.html).toContain('href="/logout"');
  });

  test('when the state coming back is tampered with, then the agency refuses the sign-in', async () => {
    const person = await signUpFromAgency();
    const tampered = new URL(person.landing);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    const res = await person.agent.request(tampered.toString());
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('could not complete your sign-in');
    expect(html).not.toContain(person.email);
    // The state was good for one try: the genuine response is now refused too.
    expect((await person.agent.request(person.landing)).status).toBe(400);
    const page = await person.agent.page(`${agency.url}/`);
    expect(page.html).toContain('Sign in with OneDoor');
  });

  test('when the person signs out, then the agency sends them to OneDoor end_session with id_token_hint, and OneDoor returns them to the agency', async () => {
    const person = await signedInAtAgency();
    const res = await person.agent.request(`${agency.url}/logout`);
    expect(res.status).toBe(303);
    const url = new URL(res.headers.get('location')!);
    expect(`${url.origin}${url.pathname}`).toBe(`${server.url}/session/end`);
    expect(url.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${agency.url}/`);
    expect((await person.agent.page(`${agency.url}/`)).html).toContain('Sign in with OneDoor');
    // OneDoor asks to confirm, signs the person out and sends them back to the agency.
    const confirm = await person.agent.page(url.toString());
    expect(confirm.status).toBe(200);
    const action = confirm.html.match(/<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"/)?.[1] ?? confirm.html.match(/action="([^"]+)"[^>]*id="op.logoutForm"/)?.[1];
    const xsrf = confirm.html.match(/name="xsrf" value="([^"]+)"/)![1]!;
    const done = await person.agent.request(new URL(action!, server.url).toString(), { method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(done.headers.get('location')).toBe(`${agency.url}/`);
  });

  test('when the person signs out everywhere at OneDoor, then OneDoor\'s back-channel logout token ends the agency session', async () => {
    const person = await signedInAtAgency();
    const account = await person.agent.page(`${server.url}/account`);
    expect(account.status).toBe(200);
    // Under Jest, oidc-provider cannot install its SSRF guard (it warns "failed to setup SSRF
    // protection"), so its POST to this loopback agency goes through. In a real process the guard
    // refuses loopback targets unless OneDoor's provider `fetch` allows them for a localhost issuer.
    const res = await person.agent.request(`${server.url}/account/sign-out-everywhere`, { method: 'POST', form: {} });
    expect(res.status).toBe(303);
    const page = await person.agent.page(`${agency.url}/`);
    expect(page.html).toContain('Sign in with OneDoor');
    expect(page.html).not.toContain(person.email);
  });

  test('when a logout token is not signed by OneDoor, carries a nonce or lacks the logout event, then the agency refuses it and the session stays', async () => {
    const person = await signedInAtAgency();
    const oneDoorJwk = server.keys.jwks.keys.find((k) => k.alg === 'ES256')!;
    const oneDoorKey = await importJWK(oneDoorJwk, 'ES256');
    const otherKey = (await generateKeyPair('ES256')).privateKey;
    const logoutEvent = { 'http://schemas.openid.net/event/backchannel-logout': {} };
    const sign = (key: CryptoKey | Uint8Array, claims: Record<string, unknown>) => new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: oneDoorJwk.kid!, typ: 'logout+jwt' }).setIssuer(server.url).setAudience('demo-agency')
      .setIssuedAt().setJti(randomUUID()).setExpirationTime('2m').sign(key);
    const sid = person.sid;
    const refused = [
      await sign(otherKey, { events: logoutEvent, sid }),
      await sign(oneDoorKey, { events: logoutEvent, sid, nonce: 'n' }),
      await sign(oneDoorKey, { sid }),
      'not-a-jwt',
    ];
    for (const logoutToken of refused) {
      const res = await fetch(`${agency.url}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: logoutToken }) });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request' });
    }
    expect((await person.agent.page(`${agency.url}/`)).html).toContain(person.email);
  });
});

describe('the demo agency\'s Phone agent page (CIBA)', () => {
  /** The agent's form: its double-submit token. */
  async function agentForm(agent: Agent) {
    const page = await agent.page(`${agency.url}/phone`);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('<script');
    return page.html.match(/name="csrf" value="([^"]+)"/)![1]!;
  }

  test('when the agent types the caller\'s email, then the page shows the binding message to read out, the caller sees the same one on OneDoor and approves, and the page shows the verified result', async () => {
    const person = await signUpFromAgency();
    const agent = new Agent();
    const csrf = await agentForm(agent);
    const started = await agent.request(`${agency.url}/phone`, { method: 'POST', body: new URLSearchParams({ csrf, email: person.email, acr: 'urn:onedoor:ial:1' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(started.status).toBe(303);
    const callUrl = `${agency.url}${started.headers.get('location')!}`;
    const waiting = await agent.page(callUrl);
    const code = waiting.html.match(/data-testid="binding-message">([^<]+)</)![1]!;
    expect(code).toMatch(/^[A-Z]+-\d{4}$/);
    expect(waiting.html).toContain('http-equiv="refresh"');

    const { url } = await phoneLinkMailedTo(server.outboxDir, person.email);
    expect((await person.agent.page(url)).html).toContain(`data-testid="binding-message">${code}<`);
    await approveOnPage(person.agent, person.authenticator, url);

    let result = '';
    for (let i = 0; i < 150 && !result.includes('Caller verified'); i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      result = (await agent.page(callUrl)).html;
    }
    expect(result).toContain('Caller verified');
    expect(result).toContain(person.email);
  });

  test('when the form is posted without its token (another site posting it), then nothing is sent to OneDoor', async () => {
    const person = await signUpFromAgency();
    const agent = new Agent();
    await agentForm(agent);
    const forged = await agent.request(`${agency.url}/phone`, { method: 'POST', body: new URLSearchParams({ csrf: 'forged', email: person.email }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('This form expired');
  });
});
