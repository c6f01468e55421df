import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import type { TestAgency } from '../support/agency.js';
import { CHROMIUM_PATH, chromiumAvailable, launchBrowser, openPersonBrowser, type PersonBrowser, type VirtualCredential } from '../support/browser.js';
import { codeFromMail } from '../support/flows.js';
import { pageHelpers } from '../support/pageHelpers.js';
import { type AgencySite, oauthError, type PhoneAgency, phoneLinkMailedTo, registerPhoneAgency, registerSignInClient, startAgencySite } from '../support/phoneAgency.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';

/**
 * The phone channel in Chromium: an agency's phone agent asks OneDoor to confirm a caller; the
 * person opens the mailed link, signs in with the passkey on their device (a virtual
 * authenticator), compares the binding message with what the agent read, and approves; the
 * agency's poll (openid-client, at the interval OneDoor gave) returns their tokens. Every OneDoor
 * page is checked with axe; screenshots go to /tmp/onedoor-shots (ciba-*.png).
 */

jest.setTimeout(180_000);

const suite = chromiumAvailable() ? describe : describe.skip;
if (!chromiumAvailable()) console.warn(`e2e: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH); skipping the browser tests`);

let server: TestServer;
let site: AgencySite;
let signIn: TestAgency;
let phone: PhoneAgency;
let browser: Browser;
const open: PersonBrowser[] = [];

beforeAll(async () => {
  if (!chromiumAvailable()) return;
  server = await startTestServer();
  site = await startAgencySite();
  const agency = { client_name: 'Benefits Agency', max_ial: 2 };
  signIn = await registerSignInClient(server, site, { clientId: 'e2e-benefits-web', extra: agency });
  phone = await registerPhoneAgency(server, site, { clientId: 'e2e-benefits-phone', extra: agency });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await server?.close();
});
afterEach(async () => {
  const problems = open.flatMap((p) => p.problems);
  await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
  expect(problems).toEqual([]);
});

const { look, settle, go, text } = pageHelpers({ serverUrl: () => server.url, prefix: 'ciba-' });

async function person(credentials?: VirtualCredential[]): Promise<PersonBrowser> {
  const p = await openPersonBrowser(browser, { agencyRedirectUris: [signIn.redirectUri], ...(credentials ? { credentials } : {}) });
  open.push(p);
  return p;
}

/** A person signs up at the agency's website in Chromium; returns their address, pairwise subject and passkey. */
async function signedUp(): Promise<{ address: string; sub: string; credentials: VirtualCredential[] }> {
  const p = await person();
  const { page } = p;
  const address = `caller-${randomUUID().slice(0, 8)}@example.com`;
  const auth = await signIn.authorize();
  await go(page, auth.url);
  await settle(page, () => page.getByRole('link', { name: 'Create a OneDoor account' }).click());
  await page.getByLabel('Email address').fill(address);
  await settle(page, () => page.getByRole('button', { name: 'Continue' }).click());
  await page.getByLabel('Confirmation code').fill(codeFromMail(latestMail(server.outboxDir)));
  await settle(page, () => page.getByRole('button', { name: 'Continue' }).click());
  await settle(page, () => page.getByRole('button', { name: 'Create a passkey' }).click());
  await settle(page, () => page.getByRole('link', { name: 'I saved my codes, continue' }).click());
  await settle(page, () => page.getByRole('button', { name: 'Agree and continue' }).click());
  const sub = (await signIn.redeem(page.url(), auth)).claims()!.sub;
  const credentials = await p.authenticator.credentials();
  await p.close();
  return { address, sub, credentials };
}

suite('the phone channel in Chromium', () => {
  test('when the person opens the mailed link, signs in with their passkey, finds the binding message the agent read and approves, then the agency\'s poll returns their tokens', async () => {
    const caller = await signedUp();
    const response = await phone.ask({ login_hint: caller.address, binding_message: 'MAPLE-4821' });
    // The agency polls as openid-client does, at the interval OneDoor gave, while the person answers.
    const polled = oidc.pollBackchannelAuthenticationGrant(phone.config, response);
    const { url } = await phoneLinkMailedTo(server.outboxDir, caller.address);

    const p = await person(caller.credentials);
    const { page } = p;
    await go(page, url);
    expect(await text(page.locator('h1'))).toBe('Sign in');
    await settle(page, () => page.getByRole('button', { name: 'Sign in with a passkey' }).click());

    expect(page.url()).toBe(url);
    expect(await text(page.locator('h1'))).toBe('Confirm your identity to Benefits Agency?');
    expect(await text(page.getByTestId('binding-message'))).toBe('MAPLE-4821');
    expect(await text(page.getByTestId('phone-warning'))).toBe('Approve only if you are on the phone with Benefits Agency now and the agent read you this code. Agencies never ask you to approve a request they did not read to you.');
    await look(page, 'request');

    await go(page, `${server.url}/account`);
    expect(await page.getByTestId('phone-requests').count()).toBe(1);
    await look(page, 'account-open-request');
    await settle(page, () => page.getByTestId('phone-requests').getByRole('link', { name: /Review/ }).click());

    await settle(page, () => page.getByRole('button', { name: 'Approve with my passkey' }).click());
    expect(await text(page.locator('h1'))).toBe('You confirmed your identity to Benefits Agency');
    await look(page, 'approved');

    const tokens = await polled;
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(caller.sub);
    expect(claims.acr).toBe('urn:onedoor:ial:1');
    expect(claims['amr']).toEqual(['pop', 'swk', 'user']);
    expect((await oidc.fetchUserInfo(phone.config, tokens.access_token, claims.sub)).email).toBe(caller.address);
  });

  test('when the agency asks for a verified identity the person does not have, then the page says what to do, and "I can\'t" tells the agency', async () => {
    const caller = await signedUp();
    const response = await phone.ask({ login_hint: caller.address, acr_values: 'urn:onedoor:ial:2' });
    const { url } = await phoneLinkMailedTo(server.outboxDir, caller.address);
    const p = await person(caller.credentials);
    const { page } = p;
    await go(page, url);
    await settle(page, () => page.getByRole('button', { name: 'Sign in with a passkey' }).click());
    expect(await text(page.getByTestId('phone-unmet'))).toContain('Benefits Agency needs a verified identity');
    expect(await page.getByRole('button', { name: 'Approve with my passkey' }).count()).toBe(0);
    await look(page, 'needs-verified-identity');
    await settle(page, () => page.getByRole('button', { name: 'Tell Benefits Agency I can\'t do this now' }).click());
    await look(page, 'unmet');
    expect(await oauthError(phone.pollOnce(response.auth_req_id))).toMatchObject({ error: 'unmet_authentication_requirements' });
  });
});
