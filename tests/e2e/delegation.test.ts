import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, Locator, Page } from 'playwright-core';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { CHROMIUM_PATH, chromiumAvailable, launchBrowser, openPersonBrowser, screenshot, type PersonBrowser } from '../support/browser.js';
import { pageHelpers } from '../support/pageHelpers.js';
import { codeFromMail } from '../support/flows.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';

/**
 * Delegation in Chromium, two people on two devices (a browser context and a virtual
 * authenticator each): a principal invites a helper for one agency, the helper answers with the
 * code from the mail, signs in at the agency with their own passkey and chooses to act for the
 * principal; the agency gets the principal's subject with the helper in `act`; the principal
 * sees the sign-in on /helpers and ends the access, after which the helper's refresh token is
 * dead and the agency receives a back-channel logout for the principal's subject.
 *
 * The steps share the two people and run in order; a step whose predecessor failed says so.
 * axe runs on every OneDoor page; each distinct page is saved as
 * /tmp/onedoor-shots/delegation-*.png for people to look at.
 */

jest.setTimeout(180_000);

const suite = chromiumAvailable() ? describe : describe.skip;
if (!chromiumAvailable()) console.warn(`e2e: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH); skipping the browser tests`);

const AGENCY_NAME = 'Agency dmv'; // registerAgency's default client_name
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let server: TestServer;
let agency: TestAgency;
let browser: Browser;
let rp: http.Server;
/** Logout tokens the agency's back-channel endpoint received, in order. */
const logoutTokens: string[] = [];
const open: PersonBrowser[] = [];

beforeAll(async () => {
  if (!chromiumAvailable()) return;
  server = await startTestServer();
  rp = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/backchannel-logout') logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200, { 'cache-control': 'no-store' });
      res.end();
    });
  });
  await new Promise<void>((r) => rp.listen(0, '127.0.0.1', r));
  const port = (rp.address() as { port: number }).port;
  agency = await registerAgency(server, {
    clientId: 'dmv',
    extra: {
      delegation_enabled: true,
      grant_types: ['authorization_code', 'refresh_token'],
      backchannel_logout_uri: `http://127.0.0.1:${port}/backchannel-logout`,
      backchannel_logout_session_required: true,
    },
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((p) => p.close().catch(() => undefined)));
  await browser?.close();
  await new Promise<void>((r) => (rp ? rp.close(() => r()) : r()));
  await server?.close();
});
afterEach(() => {
  // A page that throws or trips its own CSP is broken for people too. The two browsers stay
  // open across the steps; their problems are checked (and cleared) after each one.
  const problems = open.flatMap((p) => p.problems.splice(0));
  expect(problems).toEqual([]);
});

// ---- page helpers (the conventions of signup.test.ts) -------------------------------------

async function person(): Promise<PersonBrowser> {
  const p = await openPersonBrowser(browser, { agencyRedirectUris: [agency.redirectUri] });
  open.push(p);
  return p;
}

const { look, settle, go, text } = pageHelpers({ serverUrl: () => server.url, prefix: 'delegation-' });

const norm = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').trim();
const h1 = (page: Page) => text(page.locator('h1'));
const pathOf = (page: Page) => new URL(page.url()).pathname;
const atAgency = (page: Page) => page.url().startsWith(agency.redirectUri);
const button = (page: Page | Locator, name: string | RegExp) => page.getByRole('button', { name, exact: typeof name === 'string' });

/** A `<dl>` as term → definition (each normalized; list items joined with " | "), in order. */
async function summary(dl: Locator): Promise<Array<[string, string]>> {
  return dl.evaluate((el) => {
    const out: Array<[string, string]> = [];
    const clean = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').trim();
    el.querySelectorAll('dt').forEach((dt) => {
      const dd = dt.nextElementSibling;
      if (!dd || dd.tagName !== 'DD') { out.push([clean(dt.textContent), '']); return; }
      const items = Array.from(dd.querySelectorAll('li')).map((li) => clean(li.textContent));
      out.push([clean(dt.textContent), items.length ? items.join(' | ') : clean(dd.textContent)]);
    });
    return out;
  });
}

// ---- mail ---------------------------------------------------------------------------------

/** A mail file as text: folded headers unfolded; quoted-printable soft breaks and =XX escapes undone. */
function decodeMail(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return head + body;
}

/** The newest .eml in the outbox addressed to `address` (and matching `pattern`), decoded. */
function newestMailTo(address: string, pattern?: RegExp): string | undefined {
  const files = fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml')).sort().reverse();
  for (const f of files) {
    const mail = decodeMail(fs.readFileSync(path.join(server.outboxDir, f), 'utf8'));
    if (mail.split(/\r?\n/).some((l) => l.toLowerCase() === `to: ${address}`) && (!pattern || pattern.test(mail))) return mail;
  }
  return undefined;
}

const INVITATION_CODE = /invitation code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/;

// ---- what the steps share -----------------------------------------------------------------

interface Person {
  p: PersonBrowser;
  email: string;
  /** Their own pairwise subject at the agency, from their own sign-in there. */
  sub: string;
}

const state: {
  principal?: Person;
  helperEmail: string;
  endDate?: Date;
  helper?: Person;
  delegated?: { tokens: Awaited<ReturnType<TestAgency['redeem']>>; refreshToken: string; sid: string; at: Date };
  ended?: boolean;
} = { helperEmail: `helper-${randomUUID().slice(0, 8)}@example.com` };

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`an earlier step did not finish (${what}); see the first failure above`);
  return value;
}

/**
 * Sign-up in the browser from an authorization at the agency, as in signup.test.ts: email,
 * confirmation code, passkey, recovery codes, consent; the agency redeems the code. Returns
 * the person's own subject at the agency.
 */
async function signUpAtAgency(p: PersonBrowser, email: string, who: string): Promise<string> {
  const { page } = p;
  const auth = await agency.authorize();
  await go(page, auth.url);
  expect(await h1(page)).toBe('Sign in');
  await settle(page, () => page.getByRole('link', { name: 'Create a OneDoor account' }).click());
  expect(await h1(page)).toBe('Create your OneDoor account');
  await page.getByLabel('Email address').fill(email);
  await settle(page, () => button(page, 'Continue').click());
  expect(await h1(page)).toBe('Check your email');
  await page.getByLabel('Confirmation code').fill(codeFromMail(latestMail(server.outboxDir)));
  await settle(page, () => button(page, 'Continue').click());
  expect(await h1(page)).toBe('Create a passkey');
  await page.getByLabel('Name this passkey (optional)').fill(`${who}'s phone`);
  await settle(page, () => button(page, 'Create a passkey').click());
  expect(await h1(page)).toBe('Save your recovery codes');
  await settle(page, () => page.getByRole('link', { name: 'I saved my codes, continue' }).click());
  if (!atAgency(page)) {
    expect(await h1(page)).toBe(`Share your information with ${AGENCY_NAME}?`);
    await settle(page, () => button(page, 'Agree and continue').click());
  }
  expect(atAgency(page)).toBe(true);
  expect(await p.authenticator.credentials()).toHaveLength(1);
  const tokens = await agency.redeem(page.url(), auth);
  return tokens.claims()!.sub;
}

/** The month/day/year a person types for a date (UTC). */
const dateFields = (d: Date) => ({ month: String(d.getUTCMonth() + 1), day: String(d.getUTCDate()), year: String(d.getUTCFullYear()) });
const longDate = (d: Date) => new Intl.DateTimeFormat('en', { dateStyle: 'long', timeZone: 'UTC' }).format(d);
/** As /helpers writes a moment ("Jan 5, 2026, 3:04 PM UTC"). */
const helpersTime = (d: Date) => `${new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(d)} UTC`;

/** The delegation card on /helpers for the other person's email, in the given section. */
function card(page: Page, section: 'given' | 'held', otherEmail: string): Locator {
  return page.getByTestId(section).getByTestId('delegation').filter({ has: page.getByRole('heading', { name: otherEmail, exact: true }) });
}

/** A delegation card's history table as rows of {when, what, who, agency, released}. */
async function history(c: Locator): Promise<Array<Record<'when' | 'what' | 'who' | 'agency' | 'released', string>>> {
  return c.getByTestId('delegation-history').locator('tbody tr').evaluateAll((rows) => rows.map((r) => {
    const cells = Array.from(r.querySelectorAll('td')).map((td) => (td.textContent ?? '').replace(/\s+/g, ' ').trim());
    return { when: cells[0] ?? '', what: cells[1] ?? '', who: cells[2] ?? '', agency: cells[3] ?? '', released: cells[4] ?? '' };
  }));
}

suite('a principal and a helper, each on their own device, with delegated access at an agency', () => {
  test('when the principal signs up and invites a helper on /helpers for the agency with email and continued access until a date, confirming with their passkey, then the invitation is sent and listed', async () => {
    const p = await person();
    const email = `principal-${randomUUID().slice(0, 8)}@example.com`;
    const sub = await signUpAtAgency(p, email, 'Principal');
    state.principal = { p, email, sub };
    const { page } = p;

    await go(page, `${server.url}/helpers`);
    expect(await h1(page)).toBe('Helpers');
    await look(page, 'helpers-empty');
    expect(await text(page.getByTestId('given'))).toContain('Nobody can act for you.');

    await settle(page, () => page.getByRole('link', { name: 'Invite a helper' }).click());
    expect(pathOf(page)).toBe('/helpers/invite');
    expect(await h1(page)).toBe('Invite a helper');
    await look(page, 'invite-form');

    // USWDS draws its own boxes and moves the real checkboxes off-screen: a person clicks the labels.
    await page.getByLabel('Your helper’s email address').fill(state.helperEmail);
    const agencyBox = page.getByRole('checkbox', { name: AGENCY_NAME, exact: true });
    const everyAgency = page.getByRole('checkbox', { name: 'Every agency that allows helpers', exact: true });
    await page.locator(`label[for="${await agencyBox.getAttribute('id')}"]`).click();
    const emailBox = page.getByRole('checkbox', { name: 'Your email address', exact: true });
    const offlineBox = page.getByRole('checkbox', { name: /^Continued access for your helper/ });
    for (const box of [emailBox, offlineBox]) await page.locator(`label[for="${await box.getAttribute('id')}"]`).click();
    expect(await agencyBox.isChecked()).toBe(true);
    expect(await everyAgency.isChecked()).toBe(false);
    expect(await emailBox.isChecked()).toBe(true);
    expect(await offlineBox.isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { checked: true }).count()).toBe(3);

    const end = new Date(Date.now() + 30 * 86400 * 1000);
    const f = dateFields(end);
    await page.getByLabel('Month').fill(f.month);
    await page.getByLabel('Day').fill(f.day);
    await page.getByLabel('Year').fill(f.year);
    await screenshot(page, 'delegation-invite-form-filled');

    // The submit runs a passkey ceremony on the principal's authenticator, then posts the form.
    await settle(page, () => button(page, 'Confirm and send the invitation').click());
    expect(pathOf(page)).toBe('/helpers');
    expect(await text(page.getByRole('status'))).toBe('Your invitation was sent. We will email you when they answer.');
    const c = card(page, 'given', state.helperEmail);
    expect(await c.getAttribute('data-state')).toBe('invited');
    expect(await summary(c.locator('dl'))).toEqual([
      ['Status', 'Invitation sent'],
      ['Agencies', AGENCY_NAME],
      ['What your helper may receive and use for you', expect.stringMatching(/^Your email address \| Continued access for your helper /) as unknown as string],
      ['Until', longDate(end)],
    ]);
    expect(await button(c, /^Cancel invitation/).isVisible()).toBe(true);
    await look(page, 'helpers-invited');

    const invitation = newestMailTo(state.helperEmail, INVITATION_CODE);
    expect(invitation).toBeDefined();
    expect(invitation).toContain(`${email} invited you to be their helper on OneDoor`);
    state.endDate = end;
  });

  test('when the helper signs up on their own device, enters the code from the invitation mail on /helpers and sees the offer, then it is exactly what was offered and accepting makes it active', async () => {
    const principal = need(state.principal, 'principal');
    const end = need(state.endDate, 'invitation');
    const p = await person();
    const sub = await signUpAtAgency(p, state.helperEmail, 'Helper');
    state.helper = { p, email: state.helperEmail, sub };
    const { page } = p;
    expect(sub).not.toBe(principal.sub);

    // The newest mail is the helper's own sign-up confirmation by now; the invitation is the
    // newest one addressed to them that carries an invitation code.
    const mail = need(newestMailTo(state.helperEmail, INVITATION_CODE), 'invitation mail');
    const code = mail.match(INVITATION_CODE)![1]!;

    await go(page, `${server.url}/helpers`);
    expect(await h1(page)).toBe('Helpers');
    expect(await text(page.getByTestId('held'))).toContain('You do not help anyone yet.');
    await settle(page, () => page.getByRole('link', { name: 'I have an invitation code' }).click());
    expect(pathOf(page)).toBe('/helpers/accept');
    expect(await h1(page)).toBe('Answer an invitation');
    await look(page, 'accept-code');
    await page.getByLabel('Invitation code').fill(code);
    await settle(page, () => button(page, 'Continue').click());

    expect(await h1(page)).toBe(`Do you want to help ${principal.email}?`);
    await look(page, 'offer');
    expect(page.url()).not.toContain(code); // the code travels only in form bodies
    const offer = await summary(page.getByTestId('offer'));
    expect(offer).toEqual([
      ['Person you would help', principal.email],
      ['Agencies', AGENCY_NAME],
      ['What you may receive and use for them', 'Their email address | Continued access while you are not signed in, until access ends'],
      ['Until', longDate(end)],
    ]);

    await settle(page, () => button(page, 'Accept').click());
    expect(pathOf(page)).toBe('/helpers');
    expect(await text(page.getByRole('status'))).toBe('You accepted the invitation. You can now help this person at the agencies they chose.');
    const c = card(page, 'held', principal.email);
    expect(await c.getAttribute('data-state')).toBe('active');
    await look(page, 'helpers-helper-active');
  });

  test('when the helper signs in at the agency with their passkey and chooses the principal on "Who are you signing in for?", then the agency gets the principal\'s subject with the helper in act, and a refresh token', async () => {
    const principal = need(state.principal, 'principal');
    const helper = need(state.helper, 'helper');
    const { page, context } = helper.p;

    // The helper comes back another day: their browser was closed, so OneDoor's session cookie
    // (a browser-session cookie: remember=false) is gone, and they sign in with their passkey.
    const cookies = await context.cookies();
    const transient = cookies.filter((c) => c.expires === -1);
    expect(transient.map((c) => c.name)).toContain('od_session');
    await context.clearCookies();
    await context.addCookies(cookies.filter((c) => c.expires !== -1));

    const auth = await agency.authorize({ scope: 'openid email offline_access', prompt: 'consent' });
    await go(page, auth.url);
    expect(await h1(page)).toBe('Sign in');
    await look(page, 'helper-sign-in');
    await settle(page, () => button(page, 'Sign in with a passkey').click());

    expect(await h1(page)).toBe('Who are you signing in for?');
    await look(page, 'actor');
    expect(await text(page.locator('.usa-intro'))).toBe(`You can help other people at ${AGENCY_NAME}. Choose whether you are signing in for yourself or for someone who gave you access.`);
    const radios = page.getByRole('group', { name: 'Sign in for' }).getByRole('radio');
    expect(await radios.count()).toBe(2);
    const myself = page.getByRole('radio', { name: 'Myself', exact: true });
    expect(await myself.isChecked()).toBe(true);
    const forPrincipal = page.getByRole('radio', { name: new RegExp(`^${principal.email.replace(/[.+]/g, '\\$&')}, as their helper`) });
    expect(await forPrincipal.count()).toBe(1);
    const until = norm(await page.locator(`label[for="${await forPrincipal.getAttribute('id')}"]`).textContent());
    await page.locator(`label[for="${await forPrincipal.getAttribute('id')}"]`).click();
    expect(await forPrincipal.isChecked()).toBe(true);
    await screenshot(page, 'delegation-actor-chosen');
    const chosenAt = new Date();
    await settle(page, () => button(page, 'Continue').click());

    // The delegation is the principal's consent: the helper is not asked to agree to anything.
    const askedConsent = !atAgency(page) && (await page.getByTestId('consent-items').count()) > 0;
    if (askedConsent) await look(page, 'delegated-consent');
    expect(askedConsent).toBe(false);
    expect(atAgency(page)).toBe(true);

    const tokens = await agency.redeem(page.url(), auth);
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(server.url);
    expect(claims.aud).toBe('dmv');
    expect(claims.sub).toBe(principal.sub);
    expect(claims['act']).toEqual({ sub: helper.sub });
    expect(typeof claims['sid']).toBe('string');
    expect(tokens.scope!.split(' ').sort()).toEqual(['email', 'offline_access', 'openid']);
    expect(tokens.refresh_token).toBeTruthy();
    const info = await oidc.fetchUserInfo(agency.config, tokens.access_token, principal.sub);
    expect(info.email).toBe(principal.email);

    // The refresh token works while the access lasts, and still speaks for the principal.
    const refreshed = await oidc.refreshTokenGrant(agency.config, tokens.refresh_token!);
    expect(refreshed.claims()?.sub).toBe(principal.sub);
    expect(refreshed.claims()?.['act']).toEqual({ sub: helper.sub });
    state.delegated = { tokens, refreshToken: refreshed.refresh_token ?? tokens.refresh_token!, sid: String(claims['sid']), at: chosenAt };

    // The actor chooser's "Access until …" should name the day as every other page does
    // (recorded above, asserted last so the rest of the step is checked).
    const wanted = `Access until ${longDate(need(state.endDate, 'end date'))}`;
    if (!until.includes(wanted)) {
      throw new Error(`BUG (src/http/routes/interactionRouter.ts, renderActor): the actor chooser says "${until}", but /helpers, the offer and the invitation say "${wanted}". `
        + 'renderActor passes `until: h.delegation.endsAt.toISOString().slice(0, 10)`, an ISO date in every language (Spanish too). '
        + "Suggested fix: `until: new Intl.DateTimeFormat(ctx.state.locale, { dateStyle: 'long', timeZone: 'UTC' }).format(h.delegation.endsAt)`, as delegationRouter's fmtDate does.");
    }
  });

  test('when the principal opens /helpers, then the helper\'s sign-in at the agency is in their history with the agency name and the time', async () => {
    const principal = need(state.principal, 'principal');
    const helper = need(state.helper, 'helper');
    const { at } = need(state.delegated, 'delegated sign-in');
    const { page } = principal.p;

    await go(page, `${server.url}/helpers`);
    const c = card(page, 'given', helper.email);
    expect(await c.getAttribute('data-state')).toBe('active');
    await look(page, 'helpers-principal-activity');
    const rows = await history(c);
    const signIns = rows.filter((r) => r.what === 'Helper signed in');
    expect(signIns).toHaveLength(1);
    const row = signIns[0]!;
    expect(row.who).toBe(helper.email);
    expect(row.agency).toBe(AGENCY_NAME);
    expect(row.released).toContain('Your email address');
    // The time, to the minute, in UTC (the step took well under a minute either side).
    const minute = 60_000;
    expect([at.getTime() - minute, at.getTime(), at.getTime() + minute].map((t) => helpersTime(new Date(t)))).toContain(row.when);
    expect(rows.map((r) => r.what)).toEqual(expect.arrayContaining(['Invitation sent', 'Invitation accepted', 'Helper signed in']));

    // First use is mailed to the principal, naming the helper.
    const firstUse = need(newestMailTo(principal.email, /used the helper access you gave them/), 'first-use mail');
    const subject = firstUse.split(/\r?\n/).find((l) => l.startsWith('Subject: ')) ?? '';
    if (subject !== `Subject: ${helper.email} used the helper access you gave them` || firstUse.includes('{{')) {
      throw new Error(`BUG (src/http/routes/interactionRouter.ts, noteFirstUse): the principal's first-use mail reads "${subject}" and its body starts "${firstUse.split(/\r?\n\r?\n/)[1]?.split(/\r?\n/)[0] ?? ''}": `
        + "mail.delegation_used.subject/body use {{helper}}, but noteFirstUse calls t('mail.delegation_used.subject') with no params and the body with only { client, url }. "
        + 'Suggested fix: pass the helper to noteFirstUse (POST /actor knows helperId), look up their email and give { helper: helperEmail, client, url } to both subject and body '
        + '(and consider naming {{client}} in the body, which is computed but not used by the en/es texts).');
    }
  });

  test('when the principal ends the access on /helpers, then the helper\'s next refresh fails with invalid_grant and the agency receives a back-channel logout for the principal\'s subject', async () => {
    const principal = need(state.principal, 'principal');
    const helper = need(state.helper, 'helper');
    const delegated = need(state.delegated, 'delegated sign-in');
    const { page } = principal.p;
    logoutTokens.splice(0);

    const c = card(page, 'given', helper.email);
    const endButton = button(c, new RegExp(`^End access\\s*— ${helper.email.replace(/[.+]/g, '\\$&')}$`));
    expect(await endButton.count()).toBe(1);
    await settle(page, () => endButton.click());
    expect(pathOf(page)).toBe('/helpers');
    expect(await text(page.getByRole('status'))).toBe('Access ended. Both of you were told by email.');
    expect(await c.getAttribute('data-state')).toBe('revoked');
    expect(await text(c.locator('.usa-tag'))).toBe('Ended');
    expect(await button(c, /^End access/).count()).toBe(0);
    expect((await history(c)).map((r) => r.what)).toContain('Access ended');
    await look(page, 'helpers-ended');
    state.ended = true;

    await expect(oidc.refreshTokenGrant(agency.config, delegated.refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
    const userinfo = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${delegated.tokens.access_token}` } });
    expect(userinfo.status).toBe(401);

    // "The agency's page shows them signed out": its back-channel endpoint got the logout token.
    // The revocation waits for the deliveries, but allow the agency's server a moment.
    for (let i = 0; i < 50 && logoutTokens.length === 0; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(logoutTokens).toHaveLength(1);
    const token = logoutTokens[0]!;
    expect(decodeProtectedHeader(token).typ).toBe('logout+jwt');
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'dmv', typ: 'logout+jwt' });
    expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
    expect(payload.sub).toBe(principal.sub);
    expect(payload['sid']).toBe(delegated.sid);
    expect(payload['nonce']).toBeUndefined();
    expect(typeof payload.jti).toBe('string');

    // The helper sees it ended too.
    await go(helper.p.page, `${server.url}/helpers`);
    const theirs = card(helper.p.page, 'held', principal.email);
    expect(await theirs.getAttribute('data-state')).toBe('revoked');
    await look(helper.p.page, 'helpers-helper-ended');
  });

  test('when the helper signs in at the agency again after the access ended, then nobody asks whom they sign in for and the session is their own', async () => {
    const helper = need(state.helper, 'helper');
    if (!state.ended) throw new Error('an earlier step did not finish (access ended); see the first failure above');
    const { page } = helper.p;
    const auth = await agency.authorize();
    await go(page, auth.url);
    if (!atAgency(page) && (await h1(page)) === 'Sign in') await settle(page, () => button(page, 'Sign in with a passkey').click());
    expect(atAgency(page) ? '' : await h1(page)).not.toBe('Who are you signing in for?');
    if (!atAgency(page) && (await page.getByTestId('consent-items').count()) > 0) await settle(page, () => button(page, 'Agree and continue').click());
    expect(atAgency(page)).toBe(true);
    const claims = (await agency.redeem(page.url(), auth)).claims()!;
    expect(claims.sub).toBe(helper.sub);
    expect(claims['act']).toBeUndefined();
  });
});
