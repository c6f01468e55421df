import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { Agent } from '../support/agent.js';
import { finishAtAgency, interactionUid, signIn, signUp } from '../support/flows.js';
import { verifyIdentity } from '../support/proofingFlow.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * An agency integrated with Login.gov switches by changing its issuer: every request shape in
 * Login.gov's developer documentation (developers.login.gov: authorization, token, user info,
 * logout; its scopes, acr values and parameters) is sent as documented, and reaches the sign-in
 * page or gets the error the README's "Switching from Login.gov" documents (issue 11).
 */
let server: TestServer;
let rsaKey: CryptoKey;
let discovery: Record<string, string>;
const JWT_CLIENT = 'urn:gov:gsa:openidconnect.profiles:sp:sso:agency:benefits';
const PKCE_CLIENT = 'urn:gov:gsa:openidconnect.profiles:sp:sso:agency:benefits-pkce';
const REDIRECT = 'https://benefits.example.gov/auth/result';

beforeAll(async () => {
  server = await startTestServer();
  // Login.gov clients sign their assertions with RS256 keys of 2048 bits or more.
  const pair = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  rsaKey = pair.privateKey;
  await server.addClient({
    client_id: JWT_CLIENT, client_name: 'Benefits', redirect_uris: [REDIRECT], post_logout_redirect_uris: ['https://benefits.example.gov/'],
    token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'lg-1', alg: 'RS256', use: 'sig' }] },
    grant_types: ['authorization_code'], response_types: ['code'], max_ial: 2,
  });
  await server.addClient({ client_id: PKCE_CLIENT, client_name: 'Benefits (PKCE)', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], max_ial: 2 });
  discovery = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
});
afterAll(async () => { await server.close(); });

const longRandom = () => randomBytes(24).toString('base64url'); // Login.gov: state and nonce of 22+ characters
const pkce = () => { const verifier = randomBytes(32).toString('base64url'); return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }; };

/** Login.gov's documented authorization request (its PKCE sample), with what a row changes. */
function authorizeUrl(change: Record<string, string | null> = {}, challenge = pkce().challenge) {
  const params: Record<string, string | null> = {
    acr_values: 'urn:acr.login.gov:auth-only', client_id: PKCE_CLIENT, code_challenge: challenge, code_challenge_method: 'S256',
    nonce: longRandom(), prompt: 'select_account', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid email', state: longRandom(), ...change,
  };
  const url = new URL(discovery['authorization_endpoint']!);
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  return url.toString();
}

/** Where a browser with no OneDoor session ends up: OneDoor's sign-in page, or back at the agency with an error. */
async function outcome(url: string): Promise<{ signIn: true; html: string } | { signIn: false; error: string | null }> {
  const agent = new Agent();
  const { url: landed, res } = await agent.follow(url, server.url);
  if (landed.startsWith(`${server.url}/interaction/`)) {
    const html = await res.text();
    expect(html).toContain('data-webauthn="authenticate"');
    return { signIn: true, html };
  }
  if (landed.startsWith(REDIRECT)) return { signIn: false, error: new URL(landed).searchParams.get('error') };
  return { signIn: false, error: `page ${res.status}` };
}

const LOGIN_GOV_ACR = [
  'urn:acr.login.gov:auth-only', 'urn:acr.login.gov:verified', 'urn:acr.login.gov:verified-facial-match-required', 'urn:acr.login.gov:verified-facial-match-preferred',
  'urn:gov:gsa:ac:classes:sp:PasswordProtectedTransport:duo', 'http://idmanagement.gov/ns/assurance/aal/2', 'http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true',
  'http://idmanagement.gov/ns/assurance/ial/1', 'http://idmanagement.gov/ns/assurance/ial/2', 'http://idmanagement.gov/ns/assurance/loa/1', 'http://idmanagement.gov/ns/assurance/loa/3',
  'urn:acr.login.gov:auth-only http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true',
];
const LOGIN_GOV_SCOPES = ['openid', 'openid address', 'openid email', 'openid all_emails', 'openid locale', 'openid phone', 'openid profile:birthdate', 'openid profile:name', 'openid profile:verified_at', 'openid profile', 'openid social_security_number', 'openid email all_emails profile social_security_number phone address locale'];

describe('authorization requests as Login.gov documents them', () => {
  test('when discovery is read, then it lists select_account among the prompt values and the page languages', () => {
    expect(discovery['prompt_values_supported']).toEqual(expect.arrayContaining(['none', 'login', 'consent', 'select_account']));
    expect(discovery['ui_locales_supported']).toEqual(expect.arrayContaining(['en', 'es']));
  });

  test.each(LOGIN_GOV_ACR)('when acr_values=%s, then the sign-in page opens', async (acr) => {
    expect(await outcome(authorizeUrl({ acr_values: acr }))).toMatchObject({ signIn: true });
  });

  test.each(LOGIN_GOV_SCOPES)('when scope=%s, then the sign-in page opens', async (scope) => {
    expect(await outcome(authorizeUrl({ scope }))).toMatchObject({ signIn: true });
  });

  test.each([['45d'], ['8w'], ['18m'], ['2y']])('when verified_within=%s, then the sign-in page opens', async (within) => {
    expect(await outcome(authorizeUrl({ acr_values: 'urn:acr.login.gov:verified', verified_within: within }))).toMatchObject({ signIn: true });
  });

  test.each([['select_account'], ['select_account login'], ['login'], ['consent']])('when prompt=%s, then the sign-in page opens', async (prompt) => {
    expect(await outcome(authorizeUrl({ prompt }))).toMatchObject({ signIn: true });
  });

  test.each([['es', 'es'], ['ES', 'es'], ['fr', 'fr']])('when locale=%s (Login.gov\'s language parameter), then the page is in that language', async (locale, lang) => {
    const result = await outcome(authorizeUrl({ locale }));
    if (!result.signIn) throw new Error('expected the sign-in page');
    expect(result.html).toContain(`<html lang="${lang}">`);
  });

  test.each([
    ['PIV/CAC (hspd12) acr value', { acr_values: 'urn:acr.login.gov:auth-only http://idmanagement.gov/ns/assurance/aal/2?hspd12=true' }, 'invalid_request'],
    ['an x509 scope', { scope: 'openid x509' }, 'invalid_scope'],
    ['an x509:subject scope', { scope: 'openid x509:subject email' }, 'invalid_scope'],
    ['verified_within under a day', { verified_within: '12h' }, 'invalid_request'],
  ])('when the request asks for %s, which OneDoor does not offer, then the agency gets %s at once', async (_what, change, error) => {
    expect(await outcome(authorizeUrl(change))).toEqual({ signIn: false, error });
  });

  test('when the private_key_jwt sample is sent without PKCE, then the agency gets invalid_request: OneDoor requires PKCE of every client', async () => {
    expect(await outcome(authorizeUrl({ client_id: JWT_CLIENT, code_challenge: null, code_challenge_method: null }))).toEqual({ signIn: false, error: 'invalid_request' });
  });
});

describe('the whole exchange as Login.gov documents it', () => {
  async function personWithSession() {
    const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const agency = await registerAgency(server, { clientId: `lg-${randomUUID().slice(0, 6)}` });
    const first = await agency.authorize();
    const email = `lg-${randomUUID().slice(0, 8)}@example.com`;
    const { agent } = await signUp({ server, authenticator, authUrl: first.url, email });
    return { agent, authenticator, email };
  }

  /** Signs in (or continues as the signed-in person) and agrees; returns the code the agency receives. */
  async function codeFor(agent: Agent, authenticator: SoftAuthenticator, url: string): Promise<string> {
    let { url: landed } = await agent.follow(url, server.url);
    if (landed.includes('/interaction/') && (await agent.page(landed)).html.includes('/select-account"')) {
      const res = await agent.request(`${server.url}/interaction/${interactionUid(landed)}/select-account`, { method: 'POST', form: { choice: 'continue' } });
      expect(res.status).toBe(303);
      landed = new URL(res.headers.get('location')!, server.url).toString();
    }
    const final = landed.startsWith(REDIRECT) ? landed : (await signIn({ server, authenticator, authUrl: landed, agent })).landing;
    const code = new URL(final).searchParams.get('code');
    if (!code) throw new Error(`no code: ${final}`);
    return code;
  }

  test('when a PKCE client redeems its code with only code, code_verifier and grant_type, then it gets tokens; userinfo answers the bearer token', async () => {
    const { agent, authenticator, email } = await personWithSession();
    const { verifier, challenge } = pkce();
    const code = await codeFor(agent, authenticator, authorizeUrl({ scope: 'openid email locale' }, challenge));
    const res = await fetch(discovery['token_endpoint']!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ code, code_verifier: verifier, grant_type: 'authorization_code' }) });
    const tokens = await res.json();
    expect(res.status).toBe(200);
    expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), id_token: expect.any(String), expires_in: expect.any(Number) });
    const info = await (await fetch(discovery['userinfo_endpoint']!, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json();
    expect(info).toMatchObject({ email, email_verified: true, locale: 'en', ial: 'http://idmanagement.gov/ns/assurance/ial/1' });
    // A wrong verifier, or the same code again, is refused.
    const again = await fetch(discovery['token_endpoint']!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ code, code_verifier: verifier, grant_type: 'authorization_code' }) });
    expect((await again.json()).error).toBe('invalid_grant');
  });

  test('when a confidential client redeems with only client_assertion (RS256, aud = token endpoint), client_assertion_type, code and grant_type, then it gets tokens', async () => {
    const { agent, authenticator } = await personWithSession();
    const { verifier, challenge } = pkce();
    const code = await codeFor(agent, authenticator, authorizeUrl({ client_id: JWT_CLIENT }, challenge));
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'lg-1' }).setIssuer(JWT_CLIENT).setSubject(JWT_CLIENT)
      .setAudience(discovery['token_endpoint']!).setJti(longRandom()).setIssuedAt().setExpirationTime('5m').sign(rsaKey);
    const res = await fetch(discovery['token_endpoint']!, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_assertion: assertion, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', code, code_verifier: verifier, grant_type: 'authorization_code' }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).id_token).toEqual(expect.any(String));
  });

  test('when a confidential client leaves out its assertion, then it is not let in by the code alone', async () => {
    const { agent, authenticator } = await personWithSession();
    const { verifier, challenge } = pkce();
    const code = await codeFor(agent, authenticator, authorizeUrl({ client_id: JWT_CLIENT }, challenge));
    const res = await fetch(discovery['token_endpoint']!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ code, code_verifier: verifier, grant_type: 'authorization_code' }) });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_request');
  });

  test('when the agency logs out with client_id, post_logout_redirect_uri and state, then OneDoor asks, and returns with the state', async () => {
    const { agent, authenticator } = await personWithSession();
    await codeFor(agent, authenticator, authorizeUrl({ client_id: JWT_CLIENT }));
    const state = longRandom();
    const url = new URL(discovery['end_session_endpoint']!);
    url.search = new URLSearchParams({ client_id: JWT_CLIENT, post_logout_redirect_uri: 'https://benefits.example.gov/', state }).toString();
    const page = await agent.page(url.toString());
    expect(page.status).toBe(200);
    const form = page.html.match(/<form[^>]*action="([^"]+)"[\s\S]*?<\/form>/)!;
    const fields = Object.fromEntries([...form[0].matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const res = await agent.request(new URL(form[1]!, server.url).toString(), { method: 'POST', body: new URLSearchParams({ ...fields, logout: 'yes' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe('https://benefits.example.gov/');
    expect(back.searchParams.get('state')).toBe(state);
  });
});

describe('prompt=select_account', () => {
  test('when a person is signed in, then they see which account they continue with, and continuing gives the agency that person', async () => {
    const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const agency = await registerAgency(server, { clientId: `sa-${randomUUID().slice(0, 6)}` });
    const email = `sa-${randomUUID().slice(0, 8)}@example.com`;
    const first = await agency.authorize();
    const { agent, landing } = await signUp({ server, authenticator, authUrl: first.url, email });
    const sub = (await agency.redeem(landing, first)).claims()!.sub;

    const auth = await agency.authorize({ prompt: 'select_account' });
    const { url } = await agent.follow(auth.url, server.url);
    const page = await agent.page(url);
    expect(page.html).toContain(`Continue as ${email}`);
    const res = await agent.request(`${server.url}/interaction/${interactionUid(url)}/select-account`, { method: 'POST', form: { choice: 'continue' } });
    const back = await finishAtAgency(agent, server, new URL(res.headers.get('location')!, server.url).toString());
    expect((await agency.redeem(back, auth)).claims()!.sub).toBe(sub);
  });

  test('when the person chooses another account, then they sign in afresh and the agency gets the account they signed in with', async () => {
    const agency = await registerAgency(server, { clientId: `sb-${randomUUID().slice(0, 6)}` });
    const first = { authenticator: new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }), email: `sb-${randomUUID().slice(0, 8)}@example.com` };
    const second = { authenticator: new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }), email: `sb-${randomUUID().slice(0, 8)}@example.com` };
    const a1 = await agency.authorize();
    const { agent } = await signUp({ server, ...first, authUrl: a1.url });
    const a2 = await agency.authorize();
    const other = await signUp({ server, ...second, authUrl: a2.url });
    const secondSub = (await agency.redeem(other.landing, a2)).claims()!.sub;

    const auth = await agency.authorize({ prompt: 'select_account' });
    const { url } = await agent.follow(auth.url, server.url);
    await agent.page(url);
    const res = await agent.request(`${server.url}/interaction/${interactionUid(url)}/select-account`, { method: 'POST', form: { choice: 'switch' } });
    const { url: loginUrl } = await agent.follow(new URL(res.headers.get('location')!, server.url).toString(), server.url);
    expect((await agent.page(loginUrl)).html).toContain('data-webauthn="authenticate"');
    let { landing } = await signIn({ server, authenticator: second.authenticator, authUrl: loginUrl, agent });
    // Signing in as someone else ends the first person's session first: oidc-provider's page posts
    // itself to the end-session endpoint (a browser does it by script), then the authorization resumes.
    const page = await agent.page(landing);
    const form = page.html.match(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/)!;
    const fields = Object.fromEntries([...form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const posted = await agent.request(form[1]!, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    ({ url: landing } = await agent.follow(new URL(posted.headers.get('location')!, server.url).toString(), server.url));
    expect((await agency.redeem(landing, auth)).claims()!.sub).toBe(secondSub);
  });

  test('when the answer is neither continue nor switch, then it is a bad request and nothing moves on', async () => {
    const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const agency = await registerAgency(server, { clientId: `sc-${randomUUID().slice(0, 6)}` });
    const first = await agency.authorize();
    const { agent } = await signUp({ server, authenticator, authUrl: first.url, email: `sc-${randomUUID().slice(0, 8)}@example.com` });
    const auth = await agency.authorize({ prompt: 'select_account' });
    const { url } = await agent.follow(auth.url, server.url);
    await agent.page(url);
    const res = await agent.request(`${server.url}/interaction/${interactionUid(url)}/select-account`, { method: 'POST', form: { choice: 'someone-else' } });
    expect(res.status).toBe(400);
    expect((await agent.page(url)).html).toContain('Continue as');
  });
});

describe('OpenID Connect for Identity Assurance', () => {
  test('when an assurance-aware client reads discovery, then it finds the OIDC4IA metadata, and userinfo releases exactly what it announces', async () => {
    expect(discovery).toMatchObject({
      verified_claims_supported: true, trust_frameworks_supported: ['nist_800_63A'], evidence_supported: ['document'],
      documents_supported: expect.arrayContaining(['driving_permit', 'idcard']),
    });
    const announced = discovery['claims_in_verified_claims_supported'] as unknown as string[];
    expect(announced).toEqual(expect.arrayContaining(['given_name', 'family_name', 'birthdate', 'address']));

    const agency = await registerAgency(server, { clientId: `ida-${randomUUID().slice(0, 6)}`, extra: { max_ial: 2 } });
    const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const first = await agency.authorize();
    const { agent } = await signUp({ server, authenticator, authUrl: first.url, email: `ida-${randomUUID().slice(0, 8)}@example.com` });
    await verifyIdentity({ server, agent, authenticator });
    const claims = JSON.stringify({ userinfo: { verified_claims: { verification: { trust_framework: null, evidence: null }, claims: Object.fromEntries(announced.map((c) => [c, null])) } } });
    const auth = await agency.authorize({ acr_values: 'urn:acr.login.gov:verified', claims, scope: 'openid profile address' });
    const tokens = await agency.redeem(await finishAtAgency(agent, server, auth.url), auth);
    const info = await oidc.fetchUserInfo(agency.config, tokens.access_token, tokens.claims()!.sub);
    const verified = info['verified_claims'] as { verification: { trust_framework: string; evidence: Array<{ type: string; document_details: { type: string } }> }; claims: Record<string, unknown> };
    // The sandbox person has a middle name, so every announced claim comes back, and nothing else.
    expect(Object.keys(verified.claims).sort()).toEqual([...announced].sort());
    expect(discovery['trust_frameworks_supported']).toContain(verified.verification.trust_framework);
    for (const e of verified.verification.evidence) {
      expect(discovery['evidence_supported']).toContain(e.type);
      expect(discovery['documents_supported']).toContain(e.document_details.type);
    }
  });
});
