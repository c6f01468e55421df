import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { aamvaPayload, barcodeImage, documentFrontImage, SANDBOX_PEOPLE } from '../support/aamva.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { CHROMIUM_PATH, chromiumAvailable, launchBrowser, openPersonBrowser, type AuthenticatorOptions, type PersonBrowser } from '../support/browser.js';
import { pageHelpers } from '../support/pageHelpers.js';
import { codeFromMail } from '../support/flows.js';
import { latestOutbox } from '../support/proofingFlow.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';
import { createTestCa } from '../support/testCertificates.js';
import { jsonTrustStore, TEST_AAGUID, trustStoreDir } from '../support/trustStores.js';
import type { IdDocument } from '../../src/proofing/documents/parseAamva.js';

/**
 * Identity verification (IAL2) and authenticator assurance (AAL3) in Chromium: a person with a
 * passkey on a virtual authenticator is asked by an agency for a verified identity, goes
 * through every step with the sandbox vendors (src/proofing/vendors/SANDBOX.md), meets each
 * failure a person can recover from, and — with only synced passkeys — is told they need a
 * security key. axe runs on every OneDoor page; each distinct page is saved as
 * /tmp/onedoor-shots/proofing-*.png for people to look at.
 */

jest.setTimeout(240_000);

const suite = chromiumAvailable() ? describe : describe.skip;
if (!chromiumAvailable()) console.warn(`e2e: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH); skipping the browser tests`);

const AGENCY_NAME = 'Example Benefits Agency';
const JANE = SANDBOX_PEOPLE[0]!;
const IAL2 = 'http://idmanagement.gov/ns/assurance/ial/2';

let server: TestServer;
let agency: TestAgency;
let browser: Browser;
const open: PersonBrowser[] = [];
const trustFiles = trustStoreDir();

beforeAll(async () => {
  if (!chromiumAvailable()) return;
  // A deployment that offers AAL3: its trust store lists a security key model (tests/e2e/securityKey.test.ts covers the keys).
  const store = trustFiles.write('trust.json', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: true, attestationRootCertificates: [createTestCa({ name: 'Test Attestation Root' }).pem] }]));
  server = await startTestServer({ env: { ATTESTATION_TRUST_STORE: store } });
  agency = await registerAgency(server, { clientId: 'benefits-e2e', extra: { max_ial: 2, client_name: AGENCY_NAME } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  trustFiles.cleanup();
});
afterEach(async () => {
  // A page that throws or trips its own CSP is broken for people too.
  const problems = open.flatMap((p) => p.problems);
  await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
  expect(problems).toEqual([]);
});

// ---- page helpers (the conventions of signup.test.ts) -------------------------------------

async function person(authenticator?: AuthenticatorOptions): Promise<PersonBrowser> {
  const p = await openPersonBrowser(browser, { agencyRedirectUris: [agency.redirectUri], authenticator });
  open.push(p);
  return p;
}

const { look, settle, go, text, languageLink } = pageHelpers({ serverUrl: () => server.url, prefix: 'proofing-' });

const h1 = (page: Page) => text(page.locator('h1'));
const formError = (page: Page) => text(page.locator('#form-error'));
const path = (page: Page) => new URL(page.url()).pathname;
const atAgency = (page: Page) => page.url().startsWith(agency.redirectUri);
const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

/** The step indicator: each step's visible label, and which one is marked current. */
async function steps(page: Page): Promise<{ labels: string[]; current: string | undefined; done: string[] }> {
  const all = await page.locator('.usa-step-indicator__segment').evaluateAll((els) => els.map((el) => ({
    label: (el.querySelector('.usa-step-indicator__segment-label')?.firstChild?.textContent ?? '').trim(),
    current: el.getAttribute('aria-current') === 'true',
    done: el.classList.contains('usa-step-indicator__segment--complete'),
  })));
  return { labels: all.map((s) => s.label), current: all.find((s) => s.current)?.label, done: all.filter((s) => s.done).map((s) => s.label) };
}

const STEP_LABELS = ['Getting started', 'Your ID', 'SSN and birth date', 'Records check', 'Phone or address', 'Confirm'];

// ---- the person's actions -----------------------------------------------------------------

/** A new person signs up in the browser at an ordinary (IAL1) request and lands at the agency. */
async function signUp(authenticator?: AuthenticatorOptions): Promise<PersonBrowser> {
  const p = await person(authenticator);
  const { page } = p;
  const address = `proofing-${randomUUID().slice(0, 8)}@example.com`;
  await go(page, (await agency.authorize()).url);
  expect(await h1(page)).toBe('Sign in');
  await settle(page, () => page.getByRole('link', { name: 'Create a OneDoor account' }).click());
  await page.getByLabel('Email address').fill(address);
  await settle(page, () => button(page, 'Continue').click());
  await page.getByLabel('Confirmation code').fill(codeFromMail(latestMail(server.outboxDir)));
  await settle(page, () => button(page, 'Continue').click());
  expect(await h1(page)).toBe('Create a passkey');
  await settle(page, () => button(page, 'Create a passkey').click());
  expect(await h1(page)).toBe('Save your recovery codes');
  await settle(page, () => page.getByRole('link', { name: 'I saved my codes, continue' }).click());
  if (!atAgency(page)) await settle(page, () => button(page, 'Agree and continue').click());
  expect(atAgency(page)).toBe(true);
  return p;
}

async function agree(page: Page): Promise<void> {
  // USWDS draws its own box and moves the real checkbox off-screen: a person clicks the label.
  const box = page.getByLabel('I agree that OneDoor checks this information with the services it uses for verification.');
  await page.locator('label[for="agree"]').click();
  expect(await box.isChecked()).toBe(true);
  await settle(page, () => button(page, 'Continue').click());
}

/** Adds the two photos with the file pickers (as a person choosing files would) and submits. */
async function addDocument(page: Page, doc: Partial<IdDocument> = {}): Promise<void> {
  const back = await barcodeImage({ text: aamvaPayload({ ...JANE, ...doc }) });
  // By name, not by label: see fileInputNames (the USWDS widget replaces the labels' names).
  await page.locator('input[type="file"][name="front"]').setInputFiles({ name: 'id-front.png', mimeType: 'image/png', buffer: documentFrontImage() });
  await page.locator('input[type="file"][name="back"]').setInputFiles({ name: 'id-back.png', mimeType: 'image/png', buffer: back });
  await settle(page, () => button(page, 'Check my ID').click());
}

/**
 * The accessible names Chromium computes for the two file inputs (what a screen reader
 * announces), from the accessibility tree over CDP.
 */
async function fileInputNames(p: PersonBrowser): Promise<string[]> {
  const { root } = await p.cdp.send('DOM.getDocument', { depth: 0 });
  const names: string[] = [];
  for (const selector of ['input[type="file"][name="front"]', 'input[type="file"][name="back"]']) {
    const { nodeId } = await p.cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    const { nodes } = await p.cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
    names.push(String((nodes[0]?.name?.value as string | undefined) ?? ''));
  }
  return names;
}

async function enterSsn(page: Page, ssn: string, dateOfBirth = JANE.dateOfBirth): Promise<void> {
  const [y, m, d] = dateOfBirth.split('-') as [string, string, string];
  await page.getByLabel('Social Security number').fill(ssn);
  await page.getByLabel('Month').fill(String(Number(m)));
  await page.getByLabel('Day').fill(String(Number(d)));
  await page.getByLabel('Year').fill(y);
  await settle(page, () => button(page, 'Continue').click());
}

async function sendPhoneCode(page: Page): Promise<string> {
  await page.getByLabel('Mobile phone number').fill('(202) 555-0142');
  await settle(page, () => button(page, 'Send me a code').click());
  const sms = latestOutbox(server.outboxDir, '-sms.txt');
  expect(sms).toContain('+12025550142');
  return sms.match(/\b(\d{6})\b/)![1]!;
}

async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByLabel('One-time code').fill(code);
  await settle(page, () => button(page, 'Continue').click());
}

suite('identity verification and authenticator assurance in Chromium', () => {
  test('when an agency asks a signed-up person for a verified identity, then they go through every step with sandbox data, save a personal key, agree, and the agency gets ial 2 and their verified name; the account page says when', async () => {
    const p = await signUp();
    const { page } = p;

    // The agency now asks for a verified identity and identity data.
    const auth = await agency.authorize({ acr_values: 'urn:acr.login.gov:verified', scope: 'openid email profile address' });
    await go(page, auth.url);
    expect(await h1(page)).toBe('Verify your identity');
    expect(await text(page.locator('.usa-intro'))).toBe(`${AGENCY_NAME} needs to know it is really you before you continue.`);
    await look(page, 'needed');

    // 1. what will be checked, and consent
    await settle(page, () => page.getByRole('link', { name: 'Verify your identity' }).click());
    expect(path(page)).toBe('/verify/consent');
    expect(await h1(page)).toBe('Verify your identity');
    expect(await steps(page)).toEqual({ labels: STEP_LABELS, current: 'Getting started', done: [] });
    await look(page, 'consent');
    await agree(page);

    // 2. photos of the ID (front: a picture; back: the PDF417 barcode of a sandbox person).
    // The page in Spanish first: the language switch reloads it (a GET page).
    expect(path(page)).toBe('/verify/document');
    await settle(page, async () => (await languageLink(page, 'Español', page.getByRole('navigation', { name: 'Language' }))).click());
    expect(await h1(page)).toBe('Agregue fotos de su identificación');
    const esFileInputs = { names: await fileInputNames(p), instructions: (await page.locator('.usa-file-input__instructions').allTextContents()).map((t) => t.trim()) };
    await look(page, 'document-es');
    await settle(page, async () => (await languageLink(page, 'English', page.getByRole('navigation', { name: 'Idioma' }))).click());
    expect(await h1(page)).toBe('Add photos of your ID');
    expect(await steps(page)).toEqual({ labels: STEP_LABELS, current: 'Your ID', done: ['Getting started'] });
    const enFileInputNames = await fileInputNames(p);
    await look(page, 'document');
    await addDocument(page);

    // 3. SSN and date of birth (memorable date fields)
    expect(path(page)).toBe('/verify/ssn');
    expect(await h1(page)).toBe('Enter your Social Security number and date of birth');
    expect(await steps(page)).toMatchObject({ current: 'SSN and birth date' });
    await look(page, 'ssn');
    await enterSsn(page, '123-45-6789');

    // 4. records check: what will be checked, read from the ID, SSN masked
    expect(path(page)).toBe('/verify/records');
    expect(await h1(page)).toBe('Check your information');
    const summary = await text(page.getByTestId('records-summary'));
    expect(summary).toContain('JANE QUINN SAMPLE');
    expect(summary).toContain('123 MAIN ST');
    expect(summary).toContain('RICHMOND, VA 23219');
    expect(summary).not.toContain('123-45-6789');
    expect(summary).toContain('6789');
    expect(await steps(page)).toMatchObject({ current: 'Records check' });
    await look(page, 'records');
    await settle(page, () => button(page, 'Check official records').click());

    // 5. phone: a code by text message (the sandbox writes it to the outbox)
    expect(path(page)).toBe('/verify/possession');
    expect(await h1(page)).toBe('Confirm your phone or address');
    expect(await steps(page)).toMatchObject({ current: 'Phone or address' });
    await look(page, 'possession');
    const code = await sendPhoneCode(page);
    expect(path(page)).toBe('/verify/code');
    expect(await h1(page)).toBe('Enter your code');
    await look(page, 'code');
    await enterCode(page, code);

    // 6. re-authenticate with the passkey
    expect(path(page)).toBe('/verify/reauth');
    expect(await h1(page)).toBe('Confirm it is you');
    expect(await text(page.locator('.usa-intro'))).toBe('To finish verifying your identity, confirm with one of your passkeys.');
    await look(page, 'reauth');
    await settle(page, () => button(page, 'Confirm with a passkey').click());

    // The personal key, once.
    expect(await h1(page)).toBe('Save your personal key');
    expect(await text(page.getByRole('status'))).toBe('Your identity is verified.');
    expect(await text(page.getByTestId('personal-key'))).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    await look(page, 'personal-key');
    await settle(page, () => page.getByRole('link', { name: 'I saved my personal key, continue' }).click());

    // Back in the agency's authorization: consent to the new identity scopes, then the agency.
    expect(await h1(page)).toBe(`Share your information with ${AGENCY_NAME}?`);
    const items = await page.getByTestId('consent-items').locator('li').allTextContents();
    expect(items.map((i) => i.trim())).toEqual(expect.arrayContaining([
      'Your verified name, date of birth and when it was verified', 'Your verified home address',
    ]));
    await look(page, 'consent-identity');
    await settle(page, () => button(page, 'Agree and continue').click());
    expect(atAgency(page)).toBe(true);

    const tokens = await agency.redeem(page.url(), auth);
    expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified');
    const info = await oidc.fetchUserInfo(agency.config, tokens.access_token, tokens.claims()!.sub);
    expect(info).toMatchObject({ given_name: 'JANE', family_name: 'SAMPLE', birthdate: JANE.dateOfBirth, ial: IAL2 });
    expect(info.address).toMatchObject({ locality: 'RICHMOND', region: 'VA', postal_code: '23219' });
    expect(info.social_security_number).toBeUndefined(); // not asked for

    // The account page says when, and the history lists it.
    await go(page, `${server.url}/account`);
    expect(await text(page.getByTestId('identity-status'))).toMatch(/^Your identity was verified on .*\d{4}.* UTC\.$/);
    expect(await page.getByTestId('history').locator('td').allTextContents()).toContain('Identity verified');
    await look(page, 'account-verified');

    // Checked last, so that the whole flow above is still checked.
    // The file inputs must be announced by their labels, in the page's language (WCAG 2.5.3, 3.1.2).
    const fileInputProblems = [
      ...(enFileInputNames.every((n, k) => n.includes(['Front of your ID', 'Back of your ID'][k]!)) ? [] : [`accessible names on the English page: ${JSON.stringify(enFileInputNames)}`]),
      ...(esFileInputs.names.every((n, k) => n.includes(['Frente de su identificación', 'Reverso de su identificación'][k]!)) ? [] : [`accessible names on the Spanish page: ${JSON.stringify(esFileInputs.names)}`]),
      ...(esFileInputs.instructions.some((t) => /drag|choose/i.test(t)) ? [`visible instructions on the Spanish page: ${JSON.stringify(esFileInputs.instructions)}`] : []),
    ];
    if (fileInputProblems.length) {
      throw new Error('BUG (views/pages/verify-document.eta and verify-facial.eta, class "usa-file-input"): the USWDS file input script (uswds.min.js, usa-file-input) '
        + 'sets aria-label="Drag file here or choose from folder" on every file input, which overrides <label for>, so a screen reader announces both inputs the same way and never says "Front of your ID" / "Back of your ID"; '
        + `its text is hard-coded English, also on the Spanish page. Found: ${fileInputProblems.join('; ')}. `
        + 'Suggested fix: give each label an id and the input aria-labelledby="<label id>" (aria-labelledby takes precedence over aria-label; civiform/civiform#13854 fixed the same USWDS behaviour this way), '
        + 'and either drop the USWDS enhancement (plain <input type="file" class="usa-input">) or add a small /assets/js script that rewrites .usa-file-input__instructions and the status text from data-* attributes in the page language.');
    }
  });

  test('when the ID has expired, the document vendor times out, the records check fails or the phone code is wrong, then each page says what happened and a retry gets the person through', async () => {
    const p = await signUp();
    const { page } = p;

    // Started from the account page, without an agency waiting.
    await go(page, `${server.url}/account`);
    expect(await text(page.getByTestId('identity-status'))).toBe('Your identity is not verified. Some agencies ask for it before you can use their services.');
    await settle(page, () => page.getByRole('link', { name: 'Verify your identity' }).click());
    expect(path(page)).toBe('/verify/consent');

    // Consent without the box ticked.
    await settle(page, () => button(page, 'Continue').click());
    expect(path(page)).toBe('/verify/consent');
    expect(await formError(page)).toBe('Check the box to agree before you continue.');
    expect(await page.title()).toMatch(/^Error: /);
    await look(page, 'consent-error');
    await agree(page);

    // An expired ID.
    await addDocument(page, { issueDate: '2012-01-31', expirationDate: '2020-01-31' });
    expect(path(page)).toBe('/verify/document');
    expect(await h1(page)).toBe('Add photos of your ID');
    expect(await formError(page)).toBe('Your ID has expired. Use an ID that has not expired.');
    await look(page, 'document-expired');

    // The document vendor times out: nothing saved, /verify still goes to the document step.
    await addDocument(page, { documentNumber: 'S1234TIMEOUT' });
    expect(path(page)).toBe('/verify/document');
    expect(await formError(page)).toBe('We could not check your ID right now. Nothing was saved. Try again in a few minutes.');
    await look(page, 'document-timeout');
    await go(page, `${server.url}/verify`);
    expect(path(page)).toBe('/verify/document');
    expect(await page.locator('#form-error').count()).toBe(0);
    await addDocument(page);
    expect(path(page)).toBe('/verify/ssn');

    // Records do not match (sandbox SSN ending 9999); the page says only that the check failed.
    await enterSsn(page, '123-45-9999');
    expect(path(page)).toBe('/verify/records');
    await settle(page, () => button(page, 'Check official records').click());
    expect(path(page)).toBe('/verify/records');
    expect(await formError(page)).toBe('We could not verify your identity with official records. Check your Social Security number and date of birth and try again, or use another ID.');
    await look(page, 'records-failed');
    // Resumable: leaving and coming back lands on the records check again.
    await go(page, `${server.url}/verify`);
    expect(path(page)).toBe('/verify/records');
    await settle(page, () => page.getByRole('link', { name: 'Change Social Security number or date of birth' }).click());
    expect(path(page)).toBe('/verify/ssn');
    await look(page, 'ssn-change');
    // The step indicator should name the page the person is on (asserted at the end).
    const changing = await steps(page);
    await enterSsn(page, '123-45-6789');
    expect(path(page)).toBe('/verify/records');
    expect(await text(page.getByTestId('records-summary'))).toContain('6789');
    await settle(page, () => button(page, 'Check official records').click());
    expect(path(page)).toBe('/verify/possession');

    // A wrong phone code, then the right one.
    const code = await sendPhoneCode(page);
    await enterCode(page, code === '000000' ? '111111' : '000000');
    expect(path(page)).toBe('/verify/code');
    expect(await formError(page)).toBe('That code is not right. Check it and try again.');
    expect(await page.getByLabel('One-time code').getAttribute('aria-invalid')).toBe('true');
    await look(page, 'code-wrong');
    await enterCode(page, code);
    expect(path(page)).toBe('/verify/reauth');
    expect(await h1(page)).toBe('Confirm it is you');
    await settle(page, () => button(page, 'Confirm with a passkey').click());
    expect(await h1(page)).toBe('Save your personal key');
    // Started from the account page: continue goes back there.
    await settle(page, () => page.getByRole('link', { name: 'I saved my personal key, continue' }).click());
    expect(path(page)).toBe('/account');
    expect(await text(page.getByTestId('identity-status'))).toMatch(/^Your identity was verified on /);

    // The security history tells the person what happened, in words.
    const history = (await page.getByTestId('history').locator('td:nth-of-type(2)').allTextContents()).map((t) => t.trim());
    await look(page, 'account-history');
    expect(history).toContain('Identity verified');

    // Checked last, so the rest of the flow is still checked above; both problems are reported.
    const bugs: string[] = [];
    if (changing.current !== 'SSN and birth date') {
      bugs.push(`BUG (src/http/routes/proofingRouter.ts, page()): on /verify/ssn, reached from the records page's "Change Social Security number or date of birth", the step indicator marks "${changing.current}" as the current step (aria-current). `
        + 'page() sets current = (state.next === step), i.e. the furthest step, not the page being shown. Suggested fix: pass the StepId of the page being rendered to page() and mark that one current (and not "completed" while it is being changed).');
    }
    const rawCodes = history.filter((h) => /\((passed|failed|expired|unavailable|no_match|deceased|wrong|sms|letter)\)/.test(h));
    if (rawCodes.length) {
      bugs.push('BUG (src/http/routes/accountRouter.ts, history): the security history shows internal outcome codes to the person: '
        + `${JSON.stringify(rawCodes)}. history.proofing_*_checked / proofing_code_sent interpolate details.outcome / details.channel as stored `
        + '(passed, failed, expired, no_match, deceased, unavailable, wrong, sms, letter), untranslated in both languages, and "deceased" contradicts the records page, which deliberately only says the check failed. '
        + 'Suggested fix: translate them (history.outcome.<value>, history.channel.<value> in en/es, e.g. "Records check: did not match" / "Verification code sent by text message"), '
        + 'and map no_match/deceased to one neutral "did not match".');
    }
    if (bugs.length) throw new Error(bugs.join('\n\n'));
  });

  test('when an agency asks for a facial match, then the ID page says its front is kept until the match, and the facial-match page asks only for a photo of the face', async () => {
    const p = await signUp();
    const { page } = p;
    const auth = await agency.authorize({ acr_values: 'urn:acr.login.gov:verified-facial-match-required' });
    await go(page, auth.url);
    await settle(page, () => page.getByRole('link', { name: 'Verify your identity' }).click());
    await agree(page);

    expect(path(page)).toBe('/verify/document');
    expect(await text(page.locator('main'))).toContain('We keep the photo of the front of your ID, encrypted, until we compare it with the photo of your face, then we delete it.');
    await look(page, 'document-facial');
    await addDocument(page);

    expect(path(page)).toBe('/verify/facial-match');
    expect(await h1(page)).toBe('Take a photo of your face');
    expect(await steps(page)).toMatchObject({ current: 'Your photo' });
    expect(await page.locator('input[type="file"]').evaluateAll((inputs) => inputs.map((i) => i.getAttribute('name')))).toEqual(['selfie']);
    await look(page, 'facial');
    // A selfie that does not match (sandbox marker), then one that does.
    const selfie = documentFrontImage();
    await page.locator('input[type="file"][name="selfie"]').setInputFiles({ name: 'selfie.png', mimeType: 'image/png', buffer: Buffer.concat([selfie, Buffer.from('NOMATCH')]) });
    await settle(page, () => button(page, 'Continue').click());
    expect(path(page)).toBe('/verify/facial-match');
    expect(await formError(page)).toBe('The photo of your face did not match the photo on your ID. Try again in good light.');
    await look(page, 'facial-failed');
    await page.locator('input[type="file"][name="selfie"]').setInputFiles({ name: 'selfie.png', mimeType: 'image/png', buffer: selfie });
    await settle(page, () => button(page, 'Continue').click());
    expect(path(page)).toBe('/verify/ssn');
  });

  test('when an agency asks for AAL3 and the person has only synced passkeys, then they see that they need a security key and "Return to" takes them to the agency with unmet_authentication_requirements', async () => {
    const p = await signUp({ defaultBackupEligibility: true, defaultBackupState: true });
    const { page } = p;
    const credentials = await p.authenticator.credentials();
    expect(credentials.every((c) => c.backupEligibility !== false)).toBe(true);

    const auth = await agency.authorize({ acr_values: 'http://idmanagement.gov/ns/assurance/aal/3' });
    await go(page, auth.url);
    expect(await h1(page)).toBe('You need a security key for this agency');
    expect(await text(page.locator('.usa-alert__text'))).toContain(`${AGENCY_NAME} asks for the highest level of sign-in security`);
    expect(await page.locator('.usa-process-list__item').count()).toBe(3);
    await look(page, 'aal3-unavailable');

    await settle(page, () => button(page, `Return to ${AGENCY_NAME}`).click());
    expect(atAgency(page)).toBe(true);
    const landing = new URL(page.url());
    expect(landing.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(landing.searchParams.get('state')).toBe(auth.state);
    expect(landing.searchParams.get('code')).toBeNull();
  });
});
