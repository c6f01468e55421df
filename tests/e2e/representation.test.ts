import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { Account, VerifiedProfile } from '../../entities/index.js';
import { approveRepresentation } from '../../src/delegation/approveRepresentation.js';
import { recordRepresentation } from '../../src/delegation/recordRepresentation.js';
import { pairwiseSubject } from '../../src/oidc/pairwise.js';
import { createPersonalKey, sealRecord, serializeSealed, wrapDataKeyWithPersonalKey } from '../../src/proofing/vault.js';
import { profileAad, type VerifiedIdentity } from '../../src/proofing/verifiedProfiles.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { CHROMIUM_PATH, chromiumAvailable, launchBrowser, openPersonBrowser, screenshot, type PersonBrowser } from '../support/browser.js';
import { codeFromMail } from '../support/flows.js';
import { pageHelpers } from '../support/pageHelpers.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';

/**
 * Representation on legal authority in Chromium: a guardian (their own account and passkey,
 * verified as the court's letters name them) signs in at a benefits agency that accepts
 * guardianship, chooses the person under guardianship — who has no OneDoor account — on "Who are
 * you signing in for?", and the agency's ID token and userinfo carry the person's subject, the
 * guardian in `act`, and `delegation.basis` = guardianship, `delegation.source` = operator.
 * The chooser is saved as /tmp/onedoor-shots/representation-actor.png.
 */

jest.setTimeout(180_000);

const suite = chromiumAvailable() ? describe : describe.skip;
if (!chromiumAvailable()) console.warn(`e2e: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH); skipping the browser tests`);

const AGENCY_NAME = 'Agency benefits';

let server: TestServer;
let agency: TestAgency;
let browser: Browser;
let guardian: PersonBrowser | undefined;

beforeAll(async () => {
  if (!chromiumAvailable()) return;
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'benefits', extra: { delegation_enabled: true, delegation_bases_accepted: ['consent', 'guardianship'] } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await guardian?.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});
afterEach(() => { expect(guardian?.problems.splice(0) ?? []).toEqual([]); });

const { look, settle, go, text } = pageHelpers({ serverUrl: () => server.url, prefix: 'representation-' });
const h1 = (page: Page) => text(page.locator('h1'));
const atAgency = (page: Page) => page.url().startsWith(agency.redirectUri);

/**
 * The guardian's identity as proofing would have sealed it (proofing in the browser is
 * proofing.test.ts's subject; here only its result matters).
 */
async function seedVerifiedIdentity(accountId: string): Promise<void> {
  const identity: VerifiedIdentity = {
    givenName: 'JANE', familyName: 'SAMPLE', birthdate: '1985-04-12',
    address: { street1: '1 Main St', city: 'Springfield', state: 'IL', postalCode: '62701' } as VerifiedIdentity['address'],
    ssn: '123-45-6789',
    document: { type: 'drivers_license' as VerifiedIdentity['document']['type'], number: 'D1', issuer: 'IL', country: 'USA', issueDate: '2020-01-01', expirationDate: '2030-01-01' },
    verification: { time: new Date().toISOString(), possession: 'phone', facialMatch: false },
  };
  const sealed = sealRecord({ kek: server.keys.kek, plaintext: identity, aad: profileAad(accountId) });
  const personalKeyWrapped = wrapDataKeyWithPersonalKey({ sealed, kek: server.keys.kek, personalKey: createPersonalKey(), aad: profileAad(accountId) });
  await server.ds.getRepository(VerifiedProfile).insert({ accountId, status: 'active', ial: 2, verifiedAt: new Date(), facialMatch: false, sealed: serializeSealed(sealed), personalKeyWrapped, createdAt: new Date() });
}

suite('a guardian acts for the person under guardianship', () => {
  test('when the guardian signs in at the agency and chooses the person, then ID token and userinfo carry sub, act.sub, delegation.basis = guardianship and delegation.source = operator', async () => {
    guardian = await openPersonBrowser(browser, { agencyRedirectUris: [agency.redirectUri] });
    const { page } = guardian;
    const email = `guardian-${randomUUID().slice(0, 8)}@example.com`;

    // The guardian's own account, made in the browser at the agency.
    const first = await agency.authorize();
    await go(page, first.url);
    await settle(page, () => page.getByRole('link', { name: 'Create a OneDoor account' }).click());
    await page.getByLabel('Email address').fill(email);
    await settle(page, () => page.getByRole('button', { name: 'Continue', exact: true }).click());
    await page.getByLabel('Confirmation code').fill(codeFromMail(latestMail(server.outboxDir)));
    await settle(page, () => page.getByRole('button', { name: 'Continue', exact: true }).click());
    await settle(page, () => page.getByRole('button', { name: 'Create a passkey', exact: true }).click());
    await settle(page, () => page.getByRole('link', { name: 'I saved my codes, continue' }).click());
    if (!atAgency(page)) await settle(page, () => page.getByRole('button', { name: 'Agree and continue', exact: true }).click());
    expect(atAgency(page)).toBe(true);
    const account = await server.ds.getRepository(Account).findOneByOrFail({ email });
    await seedVerifiedIdentity(account.id);

    // Two operators record the court's letters of guardianship (the person has no account).
    const recorded = await recordRepresentation({ db: server.ds.manager, kek: server.keys.kek, pepper: server.keys.secrets.pepper }, {
      input: {
        kind: 'guardianship',
        representative: { account: email, given_name: 'Jane', family_name: 'Sample', birthdate: '1985-04-12' },
        represented: { given_name: 'Ada', family_name: 'Ward', birthdate: '1940-02-01' },
        agencies: ['benefits'], scopes: ['email', 'profile'],
        evidence: { case_number: 'PR-2026-0117', court: 'County Probate Court', document_type: 'letters of guardianship' },
      },
      source: 'operator', recordedBy: 'alice', status: 'pending', agencies: ['benefits'],
    });
    if (!recorded.ok) throw new Error(recorded.error);
    expect(await approveRepresentation({ db: server.ds.manager, delegationId: recorded.delegation.id, by: 'bob' })).toMatchObject({ ok: true });

    const auth = await agency.authorize({ prompt: 'login' });
    await go(page, auth.url);
    expect(await h1(page)).toBe('Sign in');
    await settle(page, () => page.getByRole('button', { name: 'Sign in with a passkey' }).click());
    expect(await h1(page)).toBe('Who are you signing in for?');
    expect(await text(page.locator('.usa-intro'))).toBe(`You can act for other people at ${AGENCY_NAME}. Choose whether you are signing in for yourself, for someone who gave you access, or for someone you represent on legal authority.`);
    const ada = page.getByRole('radio', { name: /^Ada Ward, as their guardian/ });
    expect(await ada.count()).toBe(1);
    await page.locator(`label[for="${await ada.getAttribute('id')}"]`).click();
    expect(await ada.isChecked()).toBe(true);
    await look(page, 'actor');
    await screenshot(page, 'representation-actor-chosen');
    await settle(page, () => page.getByRole('button', { name: 'Continue', exact: true }).click());
    expect(atAgency(page)).toBe(true);

    const tokens = await agency.redeem(page.url(), auth);
    const claims = tokens.claims()!;
    const representedSub = pairwiseSubject(server.keys.secrets.pairwiseSalt, 'benefits.agency.example', recorded.delegation.representedPersonId!);
    const guardianSub = pairwiseSubject(server.keys.secrets.pairwiseSalt, 'benefits.agency.example', account.id);
    expect(claims.sub).toBe(representedSub);
    expect(claims['act']).toEqual({ sub: guardianSub });
    expect(claims['delegation']).toMatchObject({ id: recorded.delegation.id, basis: 'guardianship', source: 'operator' });
    const info = await oidc.fetchUserInfo(agency.config, tokens.access_token, representedSub);
    expect(info).toMatchObject({ sub: representedSub, act: { sub: guardianSub }, delegation: { basis: 'guardianship', source: 'operator' } });
  });
});
