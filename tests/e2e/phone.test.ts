import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { aamvaPayload, barcodeImage, documentFrontImage, SANDBOX_PEOPLE } from '../support/aamva.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { CHROMIUM_PATH, chromiumAvailable, launchBrowser, openPersonBrowser, overflowing, PHONE, screenshot, type PersonBrowser } from '../support/browser.js';
import { pageHelpers } from '../support/pageHelpers.js';
import { codeFromMail } from '../support/flows.js';
import { latestOutbox } from '../support/proofingFlow.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';

/**
 * Every page a person reaches, on a phone (390 px wide), in each of the four languages: the
 * browser's own language picks it (Accept-Language), then the person signs up at an agency with
 * a long passkey name, opens their account and helpers pages, and verifies their identity for
 * an agency that asks. On each page: nothing is wider than the screen, and axe finds no serious
 * or critical violation. The pages are driven by their structure (form actions, ids), not by
 * their words, so one flow serves every language. Screenshots: /tmp/onedoor-shots/phone-<lang>-*.png.
 */

jest.setTimeout(240_000);

const suite = chromiumAvailable() ? describe : describe.skip;
if (!chromiumAvailable()) console.warn(`e2e: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH); skipping the browser tests`);

const JANE = SANDBOX_PEOPLE[0]!;

let server: TestServer;
let agency: TestAgency;
let browser: Browser;
const open: PersonBrowser[] = [];

beforeAll(async () => {
  if (!chromiumAvailable()) return;
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'benefits-phone', extra: { max_ial: 2, client_name: 'Example Benefits Agency' } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
afterEach(async () => {
  // A page that throws or trips its own CSP is broken for people too.
  const problems = open.flatMap((p) => p.problems);
  await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
  expect(problems).toEqual([]);
});

async function person(opts: Parameters<typeof openPersonBrowser>[1]): Promise<PersonBrowser> {
  const p = await openPersonBrowser(browser, { agencyRedirectUris: [agency.redirectUri], viewport: PHONE, ...opts });
  open.push(p);
  return p;
}

/** Each language as a browser set to it asks for it, and a passkey name as long as allowed (64) in it. */
const LANGUAGES = [
  { lang: 'en', browser: 'en-US', passkeyName: 'Work laptop on the third floor by the window, for benefit claims' },
  { lang: 'es', browser: 'es-MX', passkeyName: 'Computadora portátil de la oficina del tercer piso, junto al ala' },
  { lang: 'fr', browser: 'fr-CA', passkeyName: 'Ordinateur portable du bureau au troisième étage, près du palier' },
  { lang: 'zh-Hans', browser: 'zh-CN', passkeyName: '办公室三楼靠窗的那台笔记本电脑，专门用来办理社会福利申请和报税等政府事务的设备' },
] as const;

const atAgency = (page: Page) => page.url().startsWith(agency.redirectUri);
const path = (page: Page) => new URL(page.url()).pathname;
const submit = (page: Page, action: string) => page.locator(`form[action$="${action}"] button[type="submit"]`).first();

suite('every page on a 390 px phone, in every language', () => {
  test.each(LANGUAGES)('when a person whose browser speaks $browser signs up, manages their account and helpers and verifies their identity on a phone, then every page is in $lang, fits the screen and passes axe', async ({ lang, browser: browserLocale, passkeyName }) => {
    expect(passkeyName.length).toBeLessThanOrEqual(64);
    const { look, settle, go, text } = pageHelpers({ serverUrl: () => server.url, prefix: `phone-${lang}-` });
    const p = await person({ locale: browserLocale });
    const { page } = p;
    const langOf = () => page.locator('html').getAttribute('lang');

    await go(page, `${server.url}/`);
    expect(await langOf()).toBe(lang);
    await look(page, 'home');
    await go(page, `${server.url}/no-such-page`);
    await look(page, 'error');

    // Sign-up at the agency, every step, with the email form's error too.
    await go(page, (await agency.authorize()).url);
    expect(await langOf()).toBe(lang);
    await look(page, 'sign-in');
    await settle(page, () => page.locator('main a[href$="/signup"]').click());
    await settle(page, () => submit(page, '/signup').click());
    expect(await page.locator('#form-error').count()).toBe(1);
    await look(page, 'signup-email-error');
    await page.locator('#email').fill(`phone-${randomUUID().slice(0, 8)}@example.com`);
    await settle(page, () => submit(page, '/signup').click());
    await look(page, 'signup-code');
    await page.locator('#code').fill(codeFromMail(latestMail(server.outboxDir)));
    await settle(page, () => submit(page, '/signup/code').click());
    await look(page, 'signup-passkey');
    await page.locator('#passkey-name').fill(passkeyName);
    await settle(page, () => submit(page, '/signup/passkey').click());
    expect(await page.getByTestId('recovery-codes').locator('code').count()).toBe(10);
    await look(page, 'recovery-codes');
    await settle(page, () => page.locator('main a.usa-button').click());
    expect(await page.getByTestId('consent-items').count()).toBe(1);
    await look(page, 'consent');
    await settle(page, () => submit(page, '/consent').click());
    expect(atAgency(page)).toBe(true);

    // The account page: the passkey's long name is readable in its field, not cut to a few letters.
    await go(page, `${server.url}/account`);
    expect(await langOf()).toBe(lang);
    await look(page, 'account');
    const nameField = page.locator('#rename-0');
    expect(await nameField.inputValue()).toBe(passkeyName);
    expect(await nameField.evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(PHONE.width * 0.7);
    await go(page, `${server.url}/account/passkeys/new`);
    await look(page, 'passkey-add');
    await go(page, `${server.url}/account/recovery-codes/new`);
    await look(page, 'reauth');

    for (const [where, name] of [['/helpers', 'helpers'], ['/helpers/invite', 'helpers-invite'], ['/helpers/request', 'helpers-request'], ['/helpers/accept', 'helpers-accept']] as const) {
      await go(page, `${server.url}${where}`);
      await look(page, name);
    }

    // Identity verification for an agency that asks for it, every step.
    const auth = await agency.authorize({ acr_values: 'urn:acr.login.gov:verified', scope: 'openid email profile' });
    await go(page, auth.url);
    await look(page, 'verify-needed');
    await settle(page, () => page.locator('main a.usa-button[href^="/verify"]').click());
    expect(path(page)).toBe('/verify/consent');
    await look(page, 'verify-consent');
    await page.locator('label[for="agree"]').click();
    await settle(page, () => submit(page, '/verify/consent').click());
    expect(path(page)).toBe('/verify/document');
    await look(page, 'verify-document');
    await page.locator('input[type="file"][name="front"]').setInputFiles({ name: 'id-front.png', mimeType: 'image/png', buffer: documentFrontImage() });
    await page.locator('input[type="file"][name="back"]').setInputFiles({ name: 'id-back.png', mimeType: 'image/png', buffer: await barcodeImage({ text: aamvaPayload(JANE) }) });
    await settle(page, () => submit(page, '/verify/document').click());
    expect(path(page)).toBe('/verify/ssn');
    await look(page, 'verify-ssn');
    const [y, m, d] = JANE.dateOfBirth.split('-') as [string, string, string];
    await page.locator('#ssn').fill('123-45-6789');
    await page.locator('#dob_month').fill(String(Number(m)));
    await page.locator('#dob_day').fill(String(Number(d)));
    await page.locator('#dob_year').fill(y);
    await settle(page, () => submit(page, '/verify/ssn').click());
    expect(path(page)).toBe('/verify/records');
    await look(page, 'verify-records');
    await settle(page, () => submit(page, '/verify/records').click());
    expect(path(page)).toBe('/verify/possession');
    await look(page, 'verify-possession');
    await page.locator('#phone').fill('(202) 555-0142');
    await settle(page, () => submit(page, '/verify/phone').click());
    expect(path(page)).toBe('/verify/code');
    await look(page, 'verify-code');
    await page.locator('#code').fill(latestOutbox(server.outboxDir, '-sms.txt').match(/\b(\d{6})\b/)![1]!);
    await settle(page, () => submit(page, '/verify/code').click());
    expect(path(page)).toBe('/verify/reauth');
    await look(page, 'verify-reauth');
    await settle(page, () => page.locator('main form[data-webauthn] button[type="submit"]').click());
    expect(await text(page.getByTestId('personal-key'))).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    await look(page, 'verify-personal-key');
    await settle(page, () => page.locator('main a.usa-button').click());
    await look(page, 'consent-identity');
    await settle(page, () => submit(page, '/consent').click());
    expect(atAgency(page)).toBe(true);
  });

  test('when JavaScript is off, then the language links show as a list that fits the phone and each one works', async () => {
    const p = await person({ locale: 'fr-CA', javaScriptEnabled: false });
    const { page } = p;
    await page.goto(`${server.url}/`);
    const nav = page.getByRole('navigation', { name: 'Langue' });
    expect(await nav.locator('button').isVisible()).toBe(false); // it could not open anything
    for (const label of ['English', 'Español', '简体中文']) expect(await nav.getByRole('link', { name: label, exact: true }).isVisible()).toBe(true);
    expect(await overflowing(page)).toEqual([]);
    await screenshot(page, 'phone-fr-home-nojs');
    await nav.getByRole('link', { name: '简体中文', exact: true }).click();
    await page.waitForURL(/lang=zh-Hans/);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-Hans');
    expect(await page.getByRole('navigation', { name: '语言' }).getByRole('link', { name: 'Français', exact: true }).isVisible()).toBe(true);
    expect(await overflowing(page)).toEqual([]);
  });

  test('when JavaScript is on, then the language button opens a menu of the other languages in their own names, Escape closes it, and a choice reloads the page in that language', async () => {
    const { look, settle, text } = pageHelpers({ serverUrl: () => server.url, prefix: 'phone-zh-Hans-' });
    const p = await person({ locale: 'zh-CN' });
    const { page } = p;
    await page.goto(`${server.url}/account/signin`); // the provider's sign-in page for the account
    const nav = page.getByRole('navigation', { name: '语言' });
    const button = nav.getByRole('button', { name: '语言： 简体中文' });
    const menu = nav.locator('#language-options');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await menu.isVisible()).toBe(false);

    await button.click();
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    expect(await nav.getByRole('link').allTextContents()).toEqual(['English', 'Español', 'Français']);
    expect(await text(menu.locator('[aria-current="true"]'))).toBe('简体中文');
    expect(await overflowing(page)).toEqual([]);
    await look(page, 'sign-in-language-menu'); // axe with the menu open, and a screenshot to look at
    await page.keyboard.press('Escape');
    expect(await menu.isVisible()).toBe(false);
    expect(await button.getAttribute('aria-expanded')).toBe('false');

    await button.click();
    await settle(page, () => nav.getByRole('link', { name: 'Français' }).click());
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    expect(await page.locator('h1').textContent()).toBe('Se connecter');
  });
});
