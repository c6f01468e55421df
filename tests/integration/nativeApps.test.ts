import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { Agent } from '../support/agent.js';
import { finishAtAgency, signUp } from '../support/flows.js';
import { runCli } from '../support/runCli.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * Agency mobile and desktop apps sign in through the system browser (RFC 8252): public clients
 * with PKCE, redirecting to a private-use URI scheme or to a loopback IP literal on a port the
 * app chooses at request time.
 */
let server: TestServer;

beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

async function nativeApp(clientId: string, redirects: string[]) {
  await server.addClient({ client_id: clientId, client_name: `App ${clientId}`, application_type: 'native', redirect_uris: redirects, token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] });
  return oidc.discovery(new URL(server.url), clientId, {}, oidc.None(), { execute: [oidc.allowInsecureRequests] });
}

/** The app opens the system browser at the authorization URL; returns what it needs to redeem. */
async function authorize(config: oidc.Configuration, redirectUri: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  return { url: url.toString(), verifier, state };
}

async function signedIn(config: oidc.Configuration, redirectUri: string) {
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const auth = await authorize(config, redirectUri);
  const email = `app-${randomUUID().slice(0, 8)}@example.com`;
  const { agent, landing } = await signUp({ server, authenticator, authUrl: auth.url, email });
  return { agent, authenticator, email, auth, landing };
}

test('when an app signs in through a private-use scheme, then the browser returns to the app, which redeems the code with PKCE alone', async () => {
  const config = await nativeApp('benefits-ios', ['gov.example.benefits:/callback']);
  const { auth, landing, email } = await signedIn(config, 'gov.example.benefits:/callback');
  expect(landing.startsWith('gov.example.benefits:/callback?')).toBe(true);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landing), { pkceCodeVerifier: auth.verifier, expectedState: auth.state });
  expect((await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).email).toBe(email);
});

test('when a desktop app listens on a loopback port it picked now, then any port of the registered loopback redirect is accepted', async () => {
  const config = await nativeApp('benefits-desktop', ['http://127.0.0.1/callback']);
  const port = 49152 + Math.floor(Math.random() * 10000);
  const redirect = `http://127.0.0.1:${port}/callback`;
  const { auth, landing } = await signedIn(config, redirect);
  expect(landing.startsWith(`${redirect}?`)).toBe(true);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landing), { pkceCodeVerifier: auth.verifier, expectedState: auth.state });
  expect(tokens.access_token).toEqual(expect.any(String));
  // Another path on the loopback host is not the registered redirect.
  const wrong = await authorize(config, `http://127.0.0.1:${port}/elsewhere`);
  const { url } = await new Agent().follow(wrong.url, server.url);
  expect(url.startsWith(server.url)).toBe(true);
});

test('when a web client is asked to redirect to another port, then it is refused: only native apps get loopback port matching', async () => {
  await server.addClient({ client_id: 'permits-spa', redirect_uris: ['http://localhost:8080/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] });
  const config = await oidc.discovery(new URL(server.url), 'permits-spa', {}, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  const auth = await authorize(config, 'http://localhost:9999/callback');
  const { url, res } = await new Agent().follow(auth.url, server.url);
  expect(url.startsWith(server.url)).toBe(true);
  expect(res.status).toBe(400);
});

test('when a person signs in to an app for the first time, then the consent page says it is an app on their device', async () => {
  const config = await nativeApp('benefits-android', ['gov.example.benefits.android:/callback']);
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const web = await nativeApp('benefits-android-2', ['gov.example.benefits.two:/callback']);
  // Signed up through another app first, so this app's first sign-in shows consent.
  const first = await authorize(web, 'gov.example.benefits.two:/callback');
  const { agent } = await signUp({ server, authenticator, authUrl: first.url, email: `c-${randomUUID().slice(0, 8)}@example.com` });
  const auth = await authorize(config, 'gov.example.benefits.android:/callback');
  const { url } = await agent.follow(auth.url, server.url);
  const page = await agent.page(url);
  expect(page.html).toContain('You are signing in to the App benefits-android app on this device');
  const landing = await finishAtAgency(agent, server, url);
  expect(landing.startsWith('gov.example.benefits.android:/callback?')).toBe(true);
});

test('when one person signs in to two apps that claim similar schemes, then each app gets its own subject', async () => {
  const one = await nativeApp('app-one', ['gov.example.shared:/callback']);
  const two = await nativeApp('app-two', ['gov.example.shared:/callback']);
  const { agent, auth, landing } = await signedIn(one, 'gov.example.shared:/callback');
  const subOne = (await oidc.authorizationCodeGrant(one, new URL(landing), { pkceCodeVerifier: auth.verifier, expectedState: auth.state })).claims()!.sub;
  const second = await authorize(two, 'gov.example.shared:/callback');
  const back = await finishAtAgency(agent, server, second.url);
  const subTwo = (await oidc.authorizationCodeGrant(two, new URL(back), { pkceCodeVerifier: second.verifier, expectedState: second.state })).claims()!.sub;
  expect(subOne).not.toBe(subTwo);
});

test.each([
  ['a scheme without a dot', { redirect_uris: ['benefits:/callback'] }, /^onedoor: redirect_uris\[0\]: must use a private-use scheme in reverse-domain form/],
  ['localhost as a native loopback', { redirect_uris: ['http://localhost:7000/callback'] }, /^onedoor: redirect_uris\[0\]: must use the loopback IP literal/],
  ['a custom scheme for a web client', { application_type: 'web', redirect_uris: ['gov.example.benefits:/callback'] }, /^onedoor: redirect_uris\[0\]: must be an absolute https URL/],
])('when an operator adds an app with %s, then onedoor clients add refuses it in one line naming the field', async (_what, change, message) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-app-')), 'app.json');
  fs.writeFileSync(file, JSON.stringify({ client_id: `app-${randomUUID().slice(0, 6)}`, application_type: 'native', ...change }));
  const result = await runCli(server, ['clients', 'add', file]);
  expect(result.code).toBe(1);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(message);
});
