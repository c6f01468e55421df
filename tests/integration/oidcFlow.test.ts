import * as oidc from 'openid-client';
import { SignJWT, createRemoteJWKSet, jwtVerify } from 'jose';
import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { signIn, signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { Account } from '../../entities/index.js';

let server: TestServer;
let agencyA: TestAgency;
let agencyB: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  agencyA = await registerAgency(server, { clientId: 'agency-a' });
  agencyB = await registerAgency(server, { clientId: 'agency-b' });
});
afterAll(async () => { await server.close(); });

const email = () => `person-${randomUUID().slice(0, 8)}@example.com`;
const newAuthenticator = () => new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });

async function signedUpPerson(agency = agencyA, params: Record<string, string> = {}) {
  const authenticator = newAuthenticator();
  const auth = await agency.authorize(params);
  const { agent, landing, recoveryCodes } = await signUp({ server, authenticator, authUrl: auth.url, email: email() });
  return { authenticator, agent, landing, auth, recoveryCodes };
}

describe('discovery and keys', () => {
  test('when an agency reads discovery, then it advertises code flow, S256 only, private_key_jwt and none, pairwise, and OneDoor and Login.gov acr values', async () => {
    const res = await fetch(`${server.url}/.well-known/openid-configuration`);
    const d = await res.json();
    expect(d.issuer).toBe(server.url);
    expect(d.response_types_supported).toEqual(['code']);
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.token_endpoint_auth_methods_supported.sort()).toEqual(['none', 'private_key_jwt']);
    expect(d.grant_types_supported).not.toContain('implicit');
    expect(d.grant_types_supported).not.toContain('password');
    expect(d.subject_types_supported).toContain('pairwise');
    expect(d.acr_values_supported).toEqual(expect.arrayContaining(['urn:onedoor:ial:1', 'urn:acr.login.gov:auth-only', 'http://idmanagement.gov/ns/assurance/ial/2']));
    expect(d.claims_parameter_supported).toBe(true);
    expect(d.pushed_authorization_request_endpoint).toBeDefined();
    expect(d.backchannel_logout_supported).toBe(true);
  });

  test('when an agency fetches the JWKS, then it holds public ES256 and RS256 keys only', async () => {
    const { keys } = await (await fetch(`${server.url}/jwks`)).json();
    expect(keys.map((k: { alg: string }) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const k of keys) expect(k.d).toBeUndefined();
  });
});

describe('authorization code flow with PKCE', () => {
  test('when a new person signs up at an agency, then the agency gets a code, tokens, an ID token signed by OneDoor and userinfo', async () => {
    const { landing, auth, recoveryCodes } = await signedUpPerson();
    expect(recoveryCodes).toHaveLength(10);
    expect(landing.startsWith(agencyA.redirectUri)).toBe(true);
    const tokens = await agencyA.redeem(landing, auth);
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(server.url);
    expect(claims.aud).toBe('agency-a');
    expect(claims.acr).toBe('urn:onedoor:ial:1');
    expect(claims.amr).toEqual(expect.arrayContaining(['pop', 'user']));
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'agency-a' });
    expect(payload.sub).toBe(claims.sub);
    const info = await oidc.fetchUserInfo(agencyA.config, tokens.access_token, claims.sub);
    expect(info.email).toMatch(/@example\.com$/);
    expect(info.email_verified).toBe(true);
  });

  test('when the same person signs in again, then consent is remembered and the passkey alone gets them back to the agency', async () => {
    const person = await signedUpPerson();
    const again = await agencyA.authorize({ prompt: 'login' });
    const { landing } = await signIn({ server, authenticator: person.authenticator, authUrl: again.url, agent: person.agent });
    expect(landing.startsWith(agencyA.redirectUri)).toBe(true);
    const tokens = await agencyA.redeem(landing, again);
    const first = await agencyA.redeem(person.landing, person.auth).catch(() => undefined);
    expect(tokens.claims()!.sub).toBeDefined();
    expect(first).toBeDefined();
    expect(first!.claims()!.sub).toBe(tokens.claims()!.sub);
  });

  test('when one person signs in at two agencies, then each agency sees a different pairwise subject', async () => {
    const person = await signedUpPerson();
    const tokensA = await agencyA.redeem(person.landing, person.auth);
    const authB = await agencyB.authorize();
    const { landing } = await signIn({ server, authenticator: person.authenticator, authUrl: authB.url, agent: person.agent });
    const tokensB = await agencyB.redeem(landing, authB);
    expect(tokensA.claims()!.sub).not.toBe(tokensB.claims()!.sub);
    expect(tokensA.claims()!.sub).not.toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/); // not the internal account id
  });

  test('when a code is redeemed twice, then the second try fails and the tokens from the first stop working', async () => {
    const { landing, auth } = await signedUpPerson();
    const tokens = await agencyA.redeem(landing, auth);
    await expect(agencyA.redeem(landing, auth)).rejects.toMatchObject({ error: 'invalid_grant' });
    const intro = await oidc.tokenIntrospection(agencyA.config, tokens.access_token);
    expect(intro.active).toBe(false);
  });

  test('when the redirect_uri is not exactly a registered one, then OneDoor shows an error page and does not redirect', async () => {
    const { url } = await agencyA.authorize({ redirect_uri: `${agencyA.redirectUri}/extra` });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const html = await res.text();
    expect(html).toContain('return address is not registered');
    expect(html).not.toMatch(/at \w+ \(/); // no stack trace
  });

  test('when PKCE is missing or plain, then the authorization request is refused', async () => {
    const base = new URL(`${server.url}/auth`);
    base.search = new URLSearchParams({ client_id: 'agency-a', response_type: 'code', scope: 'openid', redirect_uri: agencyA.redirectUri, state: 's' }).toString();
    const missing = await fetch(base, { redirect: 'manual' });
    expect(missing.status).toBe(303);
    expect(new URL(missing.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    base.searchParams.set('code_challenge', 'x'.repeat(43));
    base.searchParams.set('code_challenge_method', 'plain');
    const plain = await fetch(base, { redirect: 'manual' });
    expect(new URL(plain.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  test('when the code verifier does not match, then the token endpoint answers invalid_grant', async () => {
    const { landing, auth } = await signedUpPerson();
    await expect(agencyA.redeem(landing, { ...auth, verifier: oidc.randomPKCECodeVerifier() })).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('when OneDoor restarts between authorization and code redemption, then the code still works once', async () => {
    const { landing, auth } = await signedUpPerson();
    await server.restart();
    const tokens = await agencyA.redeem(landing, auth);
    expect(tokens.access_token).toBeDefined();
  });

  test('when an agency asks with prompt=none and there is no session, then it gets login_required', async () => {
    const { url } = await agencyA.authorize({ prompt: 'none' });
    const res = await fetch(url, { redirect: 'manual' });
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });

  test('when an agency uses a pushed authorization request, then the flow completes with the request_uri', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = await oidc.buildAuthorizationUrlWithPAR(agencyA.config, {
      redirect_uri: agencyA.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state,
    });
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const { landing } = await signUp({ server, authenticator: newAuthenticator(), authUrl: url.toString(), email: email() });
    const tokens = await oidc.authorizationCodeGrant(agencyA.config, new URL(landing), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.access_token).toBeDefined();
  });

  test('when an agency uses the claims parameter, then the ID token carries the requested claim', async () => {
    const { landing, auth } = await signedUpPerson(agencyA, { claims: JSON.stringify({ id_token: { email: { essential: true } } }) });
    const tokens = await agencyA.redeem(landing, auth);
    expect(tokens.claims()!.email).toMatch(/@example\.com$/);
  });
});

describe('refresh tokens', () => {
  async function offlineTokens() {
    const { landing, auth, agent, authenticator } = await signedUpPerson(agencyA, { scope: 'openid email offline_access', prompt: 'consent' });
    return { tokens: await agencyA.redeem(landing, auth), agent, authenticator };
  }

  test('when a refresh token is used, then a new one replaces it; replaying the old one fails and revokes the grant', async () => {
    const { tokens } = await offlineTokens();
    expect(tokens.refresh_token).toBeDefined();
    const next = await oidc.refreshTokenGrant(agencyA.config, tokens.refresh_token!);
    expect(next.refresh_token).toBeDefined();
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    await expect(oidc.refreshTokenGrant(agencyA.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(agencyA.config, next.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('when a person disconnects an agency on the account page, then its refresh token stops working', async () => {
    const { tokens, agent } = await offlineTokens();
    const page = await agent.page(`${server.url}/account`);
    expect(page.status).toBe(200);
    const m = page.html.match(/action="(\/account\/agencies\/[^"]+\/disconnect)"/);
    expect(m).not.toBeNull();
    const res = await agent.request(`${server.url}${m![1]}`, { method: 'POST', form: {} });
    expect(res.status).toBe(303);
    await expect(oidc.refreshTokenGrant(agencyA.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

describe('client credentials', () => {
  test('when an agency whose client file lists client_credentials asks, then it gets a token for itself that names no person', async () => {
    const service = await registerAgency(server, { clientId: 'agency-service', extra: { grant_types: ['authorization_code', 'client_credentials'] } });
    const tokens = await oidc.clientCredentialsGrant(service.config, {});
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    const info = await oidc.tokenIntrospection(service.config, tokens.access_token);
    expect(info.active).toBe(true);
    expect(info.client_id).toBe('agency-service');
    expect(info.sub).toBeUndefined();
    expect((await oidc.tokenIntrospection(agencyB.config, tokens.access_token)).active).toBe(false);
    await expect(oidc.fetchUserInfo(service.config, tokens.access_token, oidc.skipSubjectCheck)).rejects.toBeDefined();
  });

  test('when an agency whose client file does not list client_credentials asks, then the grant is refused', async () => {
    // oidc-provider answers invalid_request ("requested grant type is not allowed for this client").
    await expect(oidc.clientCredentialsGrant(agencyA.config, {})).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/grant type is not allowed/) });
  });
});

describe('introspection, revocation and logout', () => {
  test('when an agency introspects and then revokes an access token, then it is active before and inactive after', async () => {
    const { landing, auth } = await signedUpPerson();
    const tokens = await agencyA.redeem(landing, auth);
    const before = await oidc.tokenIntrospection(agencyA.config, tokens.access_token);
    expect(before.active).toBe(true);
    expect(before.client_id).toBe('agency-a');
    await oidc.tokenRevocation(agencyA.config, tokens.access_token);
    const after = await oidc.tokenIntrospection(agencyA.config, tokens.access_token);
    expect(after.active).toBe(false);
    await expect(oidc.fetchUserInfo(agencyA.config, tokens.access_token, oidc.skipSubjectCheck)).rejects.toBeDefined();
  });

  test('when an account is disabled while its tokens are still stored, then introspection and userinfo call them inactive', async () => {
    const address = email();
    const auth = await agencyA.authorize();
    const { landing } = await signUp({ server, authenticator: newAuthenticator(), authUrl: auth.url, email: address });
    const tokens = await agencyA.redeem(landing, auth);
    expect((await oidc.tokenIntrospection(agencyA.config, tokens.access_token)).active).toBe(true);
    // Only the status changes, as between `onedoor accounts disable` committing and the end of access it runs next.
    await server.ds.getRepository(Account).update({ email: address }, { status: 'disabled' });
    expect((await oidc.tokenIntrospection(agencyA.config, tokens.access_token)).active).toBe(false);
    await expect(oidc.fetchUserInfo(agencyA.config, tokens.access_token, oidc.skipSubjectCheck)).rejects.toBeDefined();
  });

  test('when another agency introspects a token, then it learns nothing', async () => {
    const { landing, auth } = await signedUpPerson();
    const tokens = await agencyA.redeem(landing, auth);
    const other = await oidc.tokenIntrospection(agencyB.config, tokens.access_token);
    expect(other.active).toBe(false);
  });

  test('when the agency sends the person to end_session, then OneDoor confirms, signs them out and returns them', async () => {
    const person = await signedUpPerson();
    const tokens = await agencyA.redeem(person.landing, person.auth);
    const endUrl = oidc.buildEndSessionUrl(agencyA.config, { id_token_hint: tokens.id_token! });
    const page = await person.agent.page(endUrl.toString());
    expect(page.status).toBe(200);
    expect(page.html).toContain('op.logoutForm');
    const action = page.html.match(/<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"/)?.[1] ?? page.html.match(/action="([^"]+)"[^>]*id="op.logoutForm"/)?.[1];
    const xsrf = page.html.match(/name="xsrf" value="([^"]+)"/)![1]!;
    const res = await person.agent.request(new URL(action!, server.url).toString(), { method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([302, 303]).toContain(res.status);
    const { url } = await agencyA.authorize({ prompt: 'none' });
    const after = await person.agent.request(url);
    expect(new URL(after.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });
});

describe('client authentication with private_key_jwt', () => {
  async function tokenRequest(assertion: string, code = 'x') {
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: agencyA.redirectUri, code_verifier: 'v'.repeat(43), client_id: 'agency-a', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    });
    return { status: res.status, body: await res.json() };
  }
  const sign = (claims: Record<string, unknown>, exp = '60s') => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: agencyA.kid })
    .setIssuer('agency-a').setSubject('agency-a').setIssuedAt().setExpirationTime(exp).setJti(randomUUID()).sign(agencyA.privateKey);

  test('when the assertion has the wrong audience, then the client is not authenticated', async () => {
    const r = await tokenRequest(await sign({ aud: 'https://elsewhere.example/token' }));
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('invalid_client');
  });

  test('when the assertion has expired, then the client is not authenticated', async () => {
    const r = await tokenRequest(await sign({ aud: server.url }, Math.floor(Date.now() / 1000) - 120 as unknown as string));
    expect(r.body.error).toBe('invalid_client');
  });

  test('when an assertion is replayed, then the second use is refused', async () => {
    const assertion = await sign({ aud: server.url });
    const first = await tokenRequest(assertion);
    expect(first.body.error).toBe('invalid_grant'); // authenticated, the fake code is what fails
    const second = await tokenRequest(assertion);
    expect(second.body.error).toBe('invalid_client');
  });

  test('when the same assertion arrives in several requests at once, then exactly one is authenticated', async () => {
    const assertion = await sign({ aud: server.url });
    const results = await Promise.all(Array.from({ length: 8 }, () => tokenRequest(assertion)));
    const errors = results.map((r) => r.body.error).sort();
    expect(errors).toEqual(['invalid_client', 'invalid_client', 'invalid_client', 'invalid_client', 'invalid_client', 'invalid_client', 'invalid_client', 'invalid_grant']);
  });

  test('when the assertion is signed by another key, then the client is not authenticated', async () => {
    const other = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const forged = await new SignJWT({ aud: server.url }).setProtectedHeader({ alg: 'ES256', kid: agencyA.kid }).setIssuer('agency-a').setSubject('agency-a').setIssuedAt().setExpirationTime('60s').setJti(randomUUID()).sign(other.privateKey);
    expect((await tokenRequest(forged)).body.error).toBe('invalid_client');
  });
});

describe('sessions', () => {
  test('when a person signs in, then the session cookie changes at every sign-in', async () => {
    const person = await signedUpPerson();
    const firstCookie = person.agent.cookieHeader().match(/od_session=([^;]+)/)?.[1];
    const again = await agencyA.authorize({ prompt: 'login' });
    await signIn({ server, authenticator: person.authenticator, authUrl: again.url, agent: person.agent });
    const secondCookie = person.agent.cookieHeader().match(/od_session=([^;]+)/)?.[1];
    expect(firstCookie).toBeDefined();
    expect(secondCookie).toBeDefined();
    expect(secondCookie).not.toBe(firstCookie);
  });

  test('when there is no interaction cookie, then the interaction page is a readable error, not a crash', async () => {
    const res = await new Agent().request(`${server.url}/interaction/abc123`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Your sign-in took too long');
  });
});

describe('back-channel logout', () => {
  test('when a person signs out, then an agency with a back-channel logout URI receives a logout token naming their subject and session', async () => {
    const http = await import('node:http');
    const received: string[] = [];
    const rp = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { received.push(new URLSearchParams(body).get('logout_token') ?? ''); res.writeHead(200); res.end(); });
    });
    await new Promise<void>((r) => rp.listen(0, '127.0.0.1', r));
    const port = (rp.address() as { port: number }).port;
    try {
      const agencyC = await registerAgency(server, { clientId: 'agency-c', extra: { backchannel_logout_uri: `http://127.0.0.1:${port}/logout`, backchannel_logout_session_required: true } });
      const authenticator = newAuthenticator();
      const auth = await agencyC.authorize();
      const { agent, landing } = await signUp({ server, authenticator, authUrl: auth.url, email: email() });
      const tokens = await agencyC.redeem(landing, auth);
      const endUrl = oidc.buildEndSessionUrl(agencyC.config, { id_token_hint: tokens.id_token! });
      const page = await agent.page(endUrl.toString());
      const action = page.html.match(/action="([^"]+)"/)![1]!;
      const xsrf = page.html.match(/name="xsrf" value="([^"]+)"/)![1]!;
      await agent.request(new URL(action, server.url).toString(), { method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      for (let i = 0; i < 50 && received.length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
      expect(received).toHaveLength(1);
      const { payload } = await jwtVerify(received[0]!, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'agency-c' });
      expect(payload.sub).toBe(tokens.claims()!.sub);
      expect(payload.sid).toBe(tokens.claims()!.sid);
      expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
      expect(payload.nonce).toBeUndefined();
    } finally {
      rp.close();
    }
  });
});
