import { randomUUID, X509Certificate } from 'node:crypto';
import { jest } from '@jest/globals';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { addAuthenticator, CHROMIUM_PATH, chromiumAvailable, launchBrowser, openPersonBrowser, type AuthenticatorOptions, type PersonBrowser } from '../support/browser.js';
import { codeFromMail } from '../support/flows.js';
import { pageHelpers } from '../support/pageHelpers.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';
import { jsonTrustStore, trustStoreDir } from '../support/trustStores.js';

/**
 * Security keys and AAL3 in Chromium. OneDoor asks for `direct` attestation; Chromium's CDP
 * virtual authenticator answers with `packed` attestation: x5c holds one self-signed
 * "Batch Certificate" (C=US, O=Chromium, OU=Authenticator Attestation), signed by a batch key
 * that is the same in every Chromium, but the certificate is made anew (new signature and
 * dates) at each registration, so there is no fixed file to ship. Its AAGUID is
 * 01020304-0506-0708-0102-030405060708. The root is therefore taken at test time from a first
 * registration through OneDoor's own sign-up page, and an operator's trust store naming it
 * (hardware-protected, as a test operator states) is given to a second OneDoor. Screenshots go
 * to /tmp/onedoor-shots/security-key-*.png.
 */

jest.setTimeout(240_000);

const suite = chromiumAvailable() ? describe : describe.skip;
if (!chromiumAvailable()) console.warn(`e2e: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH); skipping the browser tests`);

const AGENCY_NAME = 'Example Benefits Agency';
const AAL3 = 'http://idmanagement.gov/ns/assurance/aal/3';
const SECURITY_KEY: AuthenticatorOptions = { transport: 'usb', defaultBackupEligibility: false };
const files = trustStoreDir();

/** OneDoor with no trust store, and OneDoor whose store lists the virtual key's root. */
let bare: { server: TestServer; agency: TestAgency };
let trusted: { server: TestServer; agency: TestAgency };
let browser: Browser;
let captured: { aaguid: string; fmt: string; root: X509Certificate };
const open: PersonBrowser[] = [];

async function oneDoor(env: Record<string, string> = {}) {
  const server = await startTestServer({ env });
  return { server, agency: await registerAgency(server, { clientId: 'benefits-e2e', extra: { client_name: AGENCY_NAME } }) };
}

async function person(at: { agency: TestAgency }, authenticator: AuthenticatorOptions): Promise<PersonBrowser> {
  const p = await openPersonBrowser(browser, { agencyRedirectUris: [at.agency.redirectUri], authenticator });
  open.push(p);
  return p;
}

let current: TestServer | undefined;
const { look, settle, go, text } = pageHelpers({ serverUrl: () => current!.url, prefix: 'security-key-' });
const h1 = (page: Page) => text(page.locator('h1'));
const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

/**
 * Signs up at the agency in the browser and lands there; returns the registration response
 * the page posted (what OneDoor received).
 */
async function signUp(at: { server: TestServer; agency: TestAgency }, p: PersonBrowser, passkeyName: string): Promise<{ attestationObject: string }> {
  current = at.server;
  const { page } = p;
  let posted: string | undefined;
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname.endsWith('/signup/passkey')) posted = new URLSearchParams(req.postData() ?? '').get('response') ?? undefined;
  });
  await go(page, (await at.agency.authorize()).url);
  await settle(page, () => page.getByRole('link', { name: 'Create a OneDoor account' }).click());
  await page.getByLabel('Email address').fill(`key-${randomUUID().slice(0, 8)}@example.com`);
  await settle(page, () => button(page, 'Continue').click());
  await page.getByLabel('Confirmation code').fill(codeFromMail(latestMail(at.server.outboxDir)));
  await settle(page, () => button(page, 'Continue').click());
  expect(await h1(page)).toBe('Create a passkey');
  await page.getByLabel('Name this passkey (optional)').fill(passkeyName);
  await settle(page, () => button(page, 'Create a passkey').click());
  expect(await h1(page)).toBe('Save your recovery codes');
  await settle(page, () => page.getByRole('link', { name: 'I saved my codes, continue' }).click());
  if (!page.url().startsWith(at.agency.redirectUri)) await settle(page, () => button(page, 'Agree and continue').click());
  expect(page.url().startsWith(at.agency.redirectUri)).toBe(true);
  expect(posted).toBeDefined();
  return JSON.parse(posted!).response as { attestationObject: string };
}

/** Which passkeys the account page marks "Highest security level", by name. */
async function aal3Marks(page: Page): Promise<Record<string, boolean>> {
  await go(page, `${current!.url}/account`);
  expect(await text(page.getByTestId('passkey-aal3-hint'))).toContain('Only the passkeys marked “Highest security level” meet it.');
  const marks: Record<string, boolean> = {};
  for (const row of await page.getByTestId('passkeys').locator('tbody tr').all()) {
    const marked = await row.getByTestId('passkey-aal3').count() > 0;
    if (marked) expect(await text(row.getByTestId('passkey-aal3'))).toBe('Highest security level');
    marks[await row.locator('input[name="name"]').inputValue()] = marked;
  }
  return marks;
}

/** An AAL3 request stops at "You need a security key"; "Return to" brings unmet_authentication_requirements. */
async function expectAal3Unavailable(at: { agency: TestAgency }, page: Page, shot?: string) {
  const auth = await at.agency.authorize({ acr_values: AAL3 });
  await go(page, auth.url);
  expect(await h1(page)).toBe('You need a security key for this agency');
  expect(await text(page.locator('.usa-alert__text'))).toContain(`${AGENCY_NAME} asks for the highest level of sign-in security`);
  // Steps only where a security key can help: the trust store lists a hardware-protected model.
  expect(await page.locator('.usa-process-list__item').count()).toBe(at === bare ? 0 : 3);
  if (shot) await look(page, shot);
  await settle(page, () => button(page, `Return to ${AGENCY_NAME}`).click());
  const landing = new URL(page.url());
  expect(landing.searchParams.get('error')).toBe('unmet_authentication_requirements');
  expect(landing.searchParams.get('state')).toBe(auth.state);
}

beforeAll(async () => {
  if (!chromiumAvailable()) return;
  browser = await launchBrowser();
  bare = await oneDoor();
  // A first registration of the virtual security key: its attestation, as OneDoor received it.
  const first = await person(bare, SECURITY_KEY);
  const { attestationObject } = await signUp(bare, first, 'My security key');
  const decoded = isoCBOR.decodeFirst<Map<string, unknown>>(new Uint8Array(Buffer.from(attestationObject, 'base64url')));
  const authData = decoded.get('authData') as Uint8Array;
  const x5c = (decoded.get('attStmt') as Map<string, unknown>).get('x5c') as Uint8Array[];
  const hex = Buffer.from(authData.subarray(37, 53)).toString('hex');
  captured = {
    fmt: String(decoded.get('fmt')),
    aaguid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    root: new X509Certificate(Buffer.from(x5c[x5c.length - 1]!)),
  };
  const store = files.write('chromium-virtual-key.json', jsonTrustStore([{
    aaguid: captured.aaguid, hardwareProtected: true, description: 'Chromium virtual authenticator (tests only)', attestationRootCertificates: [captured.root.toString()],
  }]));
  trusted = await oneDoor({ ATTESTATION_TRUST_STORE: store });
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
  await browser?.close();
  await bare?.server.close();
  await trusted?.server.close();
  files.cleanup();
});
afterEach(async () => {
  const problems = open.flatMap((p) => p.problems);
  await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
  expect(problems).toEqual([]);
});

suite('security keys in Chromium: AAL3 needs an attestation the operator trusts', () => {
  test('when Chromium\'s virtual security key registers, then it sends packed attestation with a self-signed Chromium batch certificate and the virtual AAGUID', () => {
    expect(captured.fmt).toBe('packed');
    expect(captured.aaguid).toBe('01020304-0506-0708-0102-030405060708');
    expect(captured.root.subject.split('\n')).toEqual(['C=US', 'O=Chromium', 'OU=Authenticator Attestation', 'CN=Batch Certificate']);
    expect(captured.root.issuer).toBe(captured.root.subject);
    expect(captured.root.verify(captured.root.publicKey)).toBe(true);
  });

  test('when the security key registers at a OneDoor whose trust store does not list its root, then the account page does not mark it as meeting the highest level and an AAL3 request ends with unmet_authentication_requirements', async () => {
    const p = await person(bare, SECURITY_KEY);
    await signUp(bare, p, 'My security key');
    expect(await aal3Marks(p.page)).toEqual({ 'My security key': false });
    await look(p.page, 'account-unattested');
    await expectAal3Unavailable(bare, p.page, 'aal3-unavailable-unattested');
  });

  test('when the operator\'s trust store lists the root, then the security key meets AAL3: the account page marks it and the agency gets acr aal/3 and amr hwk without a step-up', async () => {
    const p = await person(trusted, SECURITY_KEY);
    await signUp(trusted, p, 'My security key');
    expect(await aal3Marks(p.page)).toEqual({ 'My security key': true });
    await look(p.page, 'account-trusted');
    const auth = await trusted.agency.authorize({ acr_values: AAL3 });
    await go(p.page, auth.url);
    expect(p.page.url().startsWith(trusted.agency.redirectUri)).toBe(true);
    const tokens = await trusted.agency.redeem(p.page.url(), auth);
    expect(tokens.claims()!.acr).toBe(AAL3);
    expect(tokens.claims()!.amr).toEqual(['pop', 'hwk', 'user']);
    const info = await oidc.fetchUserInfo(trusted.agency.config, tokens.access_token, tokens.claims()!.sub);
    expect(info.aal).toBe(AAL3);
  });

  test('when a person with only a synced passkey is asked for AAL3, then they see what to do; after adding the security key on the account page, the step-up with it gives the agency acr aal/3', async () => {
    const p = await person(trusted, { defaultBackupEligibility: true, defaultBackupState: true });
    await signUp(trusted, p, 'My phone');
    await expectAal3Unavailable(trusted, p.page, 'aal3-unavailable-synced');

    await go(p.page, `${trusted.server.url}/account/passkeys/new`);
    const key = await addAuthenticator(p.cdp, SECURITY_KEY);
    await p.page.getByLabel('Name this passkey (optional)').fill('Security key');
    await settle(p.page, () => button(p.page, 'Create a passkey').click());
    expect(await key.credentials()).toHaveLength(1);
    expect(await aal3Marks(p.page)).toEqual({ 'My phone': false, 'Security key': true });
    await look(p.page, 'account-synced-and-key');

    const auth = await trusted.agency.authorize({ acr_values: AAL3 });
    await go(p.page, auth.url);
    expect(await h1(p.page)).toBe('Confirm with a passkey');
    await look(p.page, 'stepup');
    await settle(p.page, () => button(p.page, 'Confirm with a passkey').click());
    expect(p.page.url().startsWith(trusted.agency.redirectUri)).toBe(true);
    const tokens = await trusted.agency.redeem(p.page.url(), auth);
    expect(tokens.claims()!.acr).toBe(AAL3);
    expect(tokens.claims()!.amr).toContain('hwk');
  });
});
