import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { decodeMail, invitationCodeFrom, signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';
import { Account, AuditEvent, Delegation, DelegationEvent } from '../../entities/index.js';
import { recordDelegationEvent } from '../../src/delegation/recordDelegationEvent.js';
import { clock } from '../../src/shared/clock.js';

/**
 * The helper pages (/helpers): a principal invites a helper with a fresh passkey confirmation,
 * the helper answers with the code from the mail; a helper asks and the principal approves
 * (possibly narrowing) or declines; either side ends it; nobody else can touch it.
 */

let server: TestServer;
let agencyA: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  agencyA = await registerAgency(server, { clientId: 'helpers-a', extra: { delegation_enabled: true } });
  await registerAgency(server, { clientId: 'helpers-b', extra: { delegation_enabled: true } });
  await registerAgency(server, { clientId: 'helpers-plain' });
});
afterAll(async () => { await server.close(); });
afterEach(() => { clock.reset(); });

interface Person { agent: Agent; auth: SoftAuthenticator; email: string }

async function person(address?: string): Promise<Person> {
  const auth = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const email = address ?? `helpers-${randomUUID().slice(0, 8)}@example.com`;
  const a = await agencyA.authorize();
  const { agent } = await signUp({ server, authenticator: auth, authUrl: a.url, email });
  return { agent, auth, email };
}

/** A mail file as text: folded headers unfolded; the quoted-printable body's soft breaks and =XX escapes undone. */
const decode = decodeMail;

/** Every mail sent to an address, oldest first, decoded. */
function mailsTo(address: string): string[] {
  return fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml')).sort()
    .map((f) => fs.readFileSync(path.join(server.outboxDir, f), 'utf8'))
    .filter((m) => m.split(/\r?\n/).some((l) => l.toLowerCase() === `to: ${address}`))
    .map(decode);
}

const outboxSize = () => fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml')).length;

const codeFrom = invitationCodeFrom;

/** An end date `days` from now, as the memorable-date fields. */
function endIn(days: number): Array<[string, string]> {
  const d = new Date(clock.nowMs() + days * 86400 * 1000);
  return [['end_month', String(d.getUTCMonth() + 1)], ['end_day', String(d.getUTCDate())], ['end_year', String(d.getUTCFullYear())]];
}

/** A form post with repeated fields (checkboxes), carrying the page's CSRF token. */
function post(agent: Agent, pathname: string, pairs: Array<[string, string]>): Promise<Response> {
  return agent.request(`${server.url}${pathname}`, {
    method: 'POST',
    body: new URLSearchParams([['_csrf', agent.csrf], ...pairs]).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

/** A fresh passkey assertion for the forms that give access. */
async function assertion(p: Person): Promise<Array<[string, string]>> {
  const opt = await p.agent.request(`${server.url}/helpers/reauth/options`, { method: 'POST', json: {} });
  expect(opt.status).toBe(200);
  return [['response', JSON.stringify(p.auth.getAssertion({ options: await opt.json() }))]];
}

interface Terms { agencies: string[]; scopes: string[]; days: number }
const terms = (t: Terms): Array<[string, string]> => [
  ...t.agencies.map((a): [string, string] => ['agencies', a]),
  ...t.scopes.map((s): [string, string] => ['scopes', s]),
  ...endIn(t.days),
];

async function invite(p: Person, helperEmail: string, t: Terms = { agencies: ['helpers-a'], scopes: ['email'], days: 30 }): Promise<{ res: Response; code: string }> {
  await p.agent.page(`${server.url}/helpers/invite`);
  const res = await post(p.agent, '/helpers/invite', [['email', helperEmail], ...terms(t), ...(await assertion(p))]);
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/helpers?notice=invited');
  return { res, code: codeFrom(latestMail(server.outboxDir)) };
}

async function answerCode(h: Person, code: string, decision: 'accept' | 'decline'): Promise<Response> {
  await h.agent.page(`${server.url}/helpers/accept`);
  return post(h.agent, '/helpers/accept/answer', [['code', code], ['decision', decision]]);
}

/** A principal and a helper with an active delegation between them. */
async function activePair(t?: Terms): Promise<{ p: Person; h: Person; d: Delegation }> {
  const [p, h] = [await person(), await person()];
  const { code } = await invite(p, h.email, t);
  expect((await answerCode(h, code, 'accept')).status).toBe(303);
  const d = await server.ds.getRepository(Delegation).findOneByOrFail({ principalId: (await accountId(p)), status: 'active' });
  return { p, h, d };
}

async function accountId(p: Person): Promise<string> {
  return (await server.ds.getRepository(Account).findOneByOrFail({ email: p.email })).id;
}

async function requestFrom(h: Person, principalEmail: string, t: Terms): Promise<Delegation> {
  await h.agent.page(`${server.url}/helpers/request`);
  const res = await post(h.agent, '/helpers/request', [['email', principalEmail], ...terms(t)]);
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/helpers?notice=requested');
  return server.ds.getRepository(Delegation).findOneByOrFail({ helperId: await accountId(h), inviteeEmail: principalEmail, status: 'requested' });
}

describe('helpers pages', () => {
  test('when nobody is signed in, then the helper pages send them to sign in', async () => {
    for (const p of ['/helpers', '/helpers/invite', '/helpers/accept', '/helpers/request']) {
      const res = await new Agent().request(`${server.url}${p}`);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/account/signin');
    }
  });

  test('when a person opens their account, then it links to the helper page, which offers invite, ask and code', async () => {
    const p = await person();
    expect((await p.agent.page(`${server.url}/account`)).html).toContain('href="/helpers"');
    const page = await p.agent.page(`${server.url}/helpers`);
    expect(page.status).toBe(200);
    expect(page.res.headers.get('cache-control')).toBe('no-store');
    for (const href of ['/helpers/invite', '/helpers/request', '/helpers/accept']) expect(page.html).toContain(`href="${href}"`);
    expect(page.html).toContain('People who can help you');
    expect(page.html).toContain('People you help');
  });

  test('when the invite form opens, then it offers only agencies that allow helpers, plain-word scopes, a memorable date and a passkey confirmation', async () => {
    const p = await person();
    const { html } = await p.agent.page(`${server.url}/helpers/invite`);
    expect(html).toContain('data-webauthn="authenticate"');
    expect(html).toContain('data-options-url="/helpers/reauth/options"');
    expect(html).toContain('Every agency that allows helpers');
    expect(html).toContain('Agency helpers-a');
    expect(html).toContain('Agency helpers-b');
    expect(html).not.toContain('Agency helpers-plain');
    expect(html).toContain('Your verified date of birth');
    expect(html).toContain('usa-memorable-date');
    expect(html).toMatch(/<label class="usa-label[^"]*" for="email">/);
    expect(html).not.toContain('social_security_number');
  });

  test('when a principal invites with a fresh passkey and the helper accepts the code, then access is active, both see it and the principal is told', async () => {
    const [p, h] = [await person(), await person()];
    const pid = await accountId(p);

    // Without a passkey confirmation nothing is written.
    await p.agent.page(`${server.url}/helpers/invite`);
    const before = outboxSize();
    const unconfirmed = await post(p.agent, '/helpers/invite', [['email', h.email], ...terms({ agencies: ['helpers-a'], scopes: ['email'], days: 30 })]);
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toContain('could not confirm it is you');
    expect(await server.ds.getRepository(Delegation).countBy({ principalId: pid })).toBe(0);
    expect(outboxSize()).toBe(before);

    const { code } = await invite(p, h.email, { agencies: ['helpers-a', 'helpers-b'], scopes: ['email', 'profile:name'], days: 60 });
    const invitation = decode(latestMail(server.outboxDir));
    expect(invitation).toContain(`To: ${h.email}`);
    expect(invitation).toContain(p.email);
    expect(invitation).toMatch(/create one/);
    expect(invitation).toContain(`${server.url}/helpers`);
    const d = await server.ds.getRepository(Delegation).findOneByOrFail({ principalId: pid });
    expect(d.status).toBe('invited');
    expect(d.inviteHash).toBeTruthy();
    expect(d.inviteHash).not.toContain(code.replace(/-/g, ''));

    // The helper sees exactly what is offered; the code travels only in form bodies.
    const codePage = await h.agent.page(`${server.url}/helpers/accept`);
    expect(codePage.html).toContain('name="code"');
    const offer = await post(h.agent, '/helpers/accept', [['code', code.toLowerCase()]]);
    expect(offer.status).toBe(200);
    const html = await offer.text();
    expect(html).toContain(`Do you want to help ${p.email}?`);
    expect(html).toContain('Agency helpers-a; Agency helpers-b');
    expect(html).toContain('Their email address');
    expect(html).toContain('Their verified name');
    expect(html).not.toContain('Their verified date of birth');
    expect(html).toContain(new Intl.DateTimeFormat('en', { dateStyle: 'long', timeZone: 'UTC' }).format(d.endsAt));
    expect(html).toContain('action="/helpers/accept/answer"');
    expect(html).not.toMatch(/[?&]code=/);

    const accepted = await post(h.agent, '/helpers/accept/answer', [['code', code], ['decision', 'accept']]);
    expect(accepted.status).toBe(303);
    expect(accepted.headers.get('location')).toBe('/helpers?notice=invitation_accepted');
    const after = await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id });
    expect(after.status).toBe('active');
    expect(after.helperId).toBe(await accountId(h));
    expect(after.inviteHash).toBeNull();
    expect(mailsTo(p.email).at(-1)).toContain(`${h.email} accepted your OneDoor helper invitation`);

    const principalView = await p.agent.page(`${server.url}/helpers?notice=invited`);
    expect(principalView.html).toContain('Your invitation was sent');
    expect(principalView.html).toContain(h.email);
    expect(principalView.html).toContain('data-state="active"');
    expect(principalView.html).toContain('Invitation accepted');
    expect(principalView.html).toContain('Your verified name');
    expect(principalView.html).toContain(`action="/helpers/${d.id}/revoke"`);
    const helperView = await h.agent.page(`${server.url}/helpers`);
    expect(helperView.html).toContain(p.email);
    expect(helperView.html).toContain(`including what you did, for ${p.email}`);
    expect(helperView.html).toContain('Their verified name');

    // Every change is in the audit log and the delegation's own history, with who made it.
    const types = (await server.ds.getRepository(DelegationEvent).findBy({ delegationId: d.id })).map((e) => e.type).sort();
    expect(types).toEqual(['accepted', 'invited']);
    expect(await server.ds.getRepository(AuditEvent).countBy({ accountId: pid, type: 'delegation_invited' })).toBe(1);
    expect(await server.ds.getRepository(AuditEvent).countBy({ accountId: after.helperId!, type: 'delegation_accepted' })).toBe(1);
    expect((await p.agent.page(`${server.url}/account`)).html).toContain('Invited a helper');

    // The code works once.
    const again = await post(h.agent, '/helpers/accept', [['code', code]]);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('Invitation code: that code is not right, was already used or has expired');
    const third = await person();
    await third.agent.page(`${server.url}/helpers/accept`);
    const reused = await post(third.agent, '/helpers/accept/answer', [['code', code], ['decision', 'accept']]);
    expect(reused.status).toBe(400);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id })).helperId).toBe(after.helperId);
  });

  test('when an invitation is older than 7 days, then its code is refused and nothing changes', async () => {
    const [p, h] = [await person(), await person()];
    const { code } = await invite(p, h.email);
    clock.advance(8 * 86400 * 1000);
    try {
      await h.agent.page(`${server.url}/helpers/accept`);
      const res = await post(h.agent, '/helpers/accept', [['code', code]]);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('has expired');
      expect((await answerCode(h, code, 'accept')).status).toBe(400);
    } finally {
      clock.reset();
    }
    const d = await server.ds.getRepository(Delegation).findOneByOrFail({ principalId: await accountId(p) });
    expect(d.status).toBe('invited');
    expect(d.helperId).toBeNull();
    clock.advance(8 * 86400 * 1000);
    expect((await p.agent.page(`${server.url}/helpers`)).html).toContain('Invitation expired');
    clock.reset();
  });

  test('when the helper declines an invitation, then it is declined, the code is spent and the principal is told', async () => {
    const [p, h] = [await person(), await person()];
    const { code } = await invite(p, h.email);
    const res = await answerCode(h, code, 'decline');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/helpers?notice=invitation_declined');
    const d = await server.ds.getRepository(Delegation).findOneByOrFail({ principalId: await accountId(p) });
    expect(d.status).toBe('declined');
    expect(mailsTo(p.email).at(-1)).toContain(`${h.email} declined OneDoor helper access`);
    expect((await answerCode(h, code, 'accept')).status).toBe(400);
    expect((await p.agent.page(`${server.url}/helpers`)).html).toContain('data-state="declined"');
  });

  test('when a principal enters their own invitation code, then it is refused', async () => {
    const p = await person();
    const { code } = await invite(p, `someone-${randomUUID().slice(0, 6)}@example.com`);
    const res = await answerCode(p, code, 'accept');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('this is your own invitation');
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ principalId: await accountId(p) })).status).toBe('invited');
  });

  test('when a helper asks and the principal approves with fewer scopes, then access is active with the narrowed terms; a wider approval is refused', async () => {
    const [p, h] = [await person(), await person()];
    const asked = await requestFrom(h, p.email, { agencies: ['helpers-a', 'helpers-b'], scopes: ['email', 'profile:name'], days: 90 });
    expect(mailsTo(p.email).at(-1)).toContain(`${h.email} asks to help you on OneDoor`);

    const overview = await p.agent.page(`${server.url}/helpers`);
    expect(overview.html).toContain(`${h.email} asks to help you`);
    expect(overview.html).toContain(`href="/helpers/${asked.id}/answer"`);

    // The approval form is prefilled with what was asked and offers nothing more.
    const review = await p.agent.page(`${server.url}/helpers/${asked.id}/answer`);
    expect(review.status).toBe(200);
    expect(review.html).toContain('data-webauthn="authenticate"');
    expect(review.html).toMatch(/value="email" checked/);
    expect(review.html).toMatch(/value="profile:name" checked/);
    expect(review.html).toMatch(/value="helpers-a" checked/);
    expect(review.html).not.toContain('value="phone"');
    expect(review.html).not.toContain('value="*"');
    const end = endIn(90);
    expect(review.html).toContain(`value="${end[2]![1]}"`);

    // Wider (a scope not asked for) is refused, even with a passkey confirmation.
    const wider = await post(p.agent, `/helpers/${asked.id}/answer`, [['decision', 'approve'], ...terms({ agencies: ['helpers-a'], scopes: ['email', 'phone'], days: 90 }), ...(await assertion(p))]);
    expect(wider.status).toBe(400);
    expect(await wider.text()).toContain('You can approve only what they asked for, or less');
    // So is a later end date.
    const later = await post(p.agent, `/helpers/${asked.id}/answer`, [['decision', 'approve'], ...terms({ agencies: ['helpers-a'], scopes: ['email'], days: 200 }), ...(await assertion(p))]);
    expect(later.status).toBe(400);
    // And an approval without a passkey confirmation.
    const unconfirmed = await post(p.agent, `/helpers/${asked.id}/answer`, [['decision', 'approve'], ...terms({ agencies: ['helpers-a'], scopes: ['email'], days: 90 })]);
    expect(unconfirmed.status).toBe(400);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: asked.id })).status).toBe('requested');

    // The helper cannot approve their own request.
    expect((await h.agent.request(`${server.url}/helpers/${asked.id}/answer`)).status).toBe(403);
    await h.agent.page(`${server.url}/helpers`);
    expect((await post(h.agent, `/helpers/${asked.id}/answer`, [['decision', 'approve'], ...terms({ agencies: ['helpers-a'], scopes: ['email'], days: 90 }), ...(await assertion(h))])).status).toBe(403);

    await p.agent.page(`${server.url}/helpers/${asked.id}/answer`);
    const ok = await post(p.agent, `/helpers/${asked.id}/answer`, [['decision', 'approve'], ...terms({ agencies: ['helpers-a'], scopes: ['email'], days: 90 }), ...(await assertion(p))]);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/helpers?notice=approved');
    const d = await server.ds.getRepository(Delegation).findOneByOrFail({ id: asked.id });
    expect(d.status).toBe('active');
    expect(d.principalId).toBe(await accountId(p));
    expect(JSON.parse(d.scopes)).toEqual(['email']);
    expect(JSON.parse(d.clientIds)).toEqual(['helpers-a']);
    expect(d.endsAt.getTime()).toBe(asked.endsAt.getTime());
    expect(mailsTo(h.email).at(-1)).toContain(`${p.email} approved your OneDoor helper request`);

    // Answered once: a second answer goes back to the list.
    const closed = await p.agent.request(`${server.url}/helpers/${asked.id}/answer`);
    expect(closed.status).toBe(303);
    expect(closed.headers.get('location')).toBe('/helpers?error=request_closed');
  });

  test('when a request for every agency is approved for just some of them, then it is approved for those', async () => {
    const [p, h] = [await person(), await person()];
    const asked = await requestFrom(h, p.email, { agencies: ['*'], scopes: ['email'], days: 30 });
    await p.agent.page(`${server.url}/helpers/${asked.id}/answer`);
    const ok = await post(p.agent, `/helpers/${asked.id}/answer`, [['decision', 'approve'], ...terms({ agencies: ['helpers-b'], scopes: ['email'], days: 20 }), ...(await assertion(p))]);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/helpers?notice=approved');
    const d = await server.ds.getRepository(Delegation).findOneByOrFail({ id: asked.id });
    expect(d.status).toBe('active');
    expect(JSON.parse(d.clientIds)).toEqual(['helpers-b']);
  });

  test('when the principal declines a request, then it is declined and the helper is told', async () => {
    const [p, h] = [await person(), await person()];
    const asked = await requestFrom(h, p.email, { agencies: ['*'], scopes: ['email'], days: 30 });
    await p.agent.page(`${server.url}/helpers`);
    const res = await post(p.agent, `/helpers/${asked.id}/answer`, [['decision', 'decline']]);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/helpers?notice=request_declined');
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: asked.id })).status).toBe('declined');
    expect(mailsTo(h.email).at(-1)).toContain('declined OneDoor helper access');
  });

  test('when the helper ends access, then it is revoked and both are mailed', async () => {
    const { p, h, d } = await activePair();
    await h.agent.page(`${server.url}/helpers`);
    const res = await post(h.agent, `/helpers/${d.id}/revoke`, []);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/helpers?notice=revoked');
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id })).status).toBe('revoked');
    for (const who of [p, h]) expect(mailsTo(who.email).at(-1)).toContain('OneDoor helper access has ended');
    const page = await p.agent.page(`${server.url}/helpers`);
    expect(page.html).toContain('data-state="revoked"');
    expect(page.html).not.toContain(`action="/helpers/${d.id}/revoke"`);
  });

  test('when the principal ends access, then it is revoked, both are mailed and the history says who did it', async () => {
    const { p, h, d } = await activePair({ agencies: ['*'], scopes: ['email', 'offline_access'], days: 365 });
    const page = await p.agent.page(`${server.url}/helpers`);
    expect(page.html).toContain('Every agency that allows helpers');
    const res = await post(p.agent, `/helpers/${d.id}/revoke`, []);
    expect(res.status).toBe(303);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id })).status).toBe('revoked');
    for (const who of [p, h]) expect(mailsTo(who.email).at(-1)).toContain('OneDoor helper access has ended');
    const revoked = await server.ds.getRepository(DelegationEvent).findOneByOrFail({ delegationId: d.id, type: 'revoked' });
    expect(revoked.actorId).toBe(await accountId(p));
    const helperPage = await h.agent.page(`${server.url}/helpers`);
    expect(helperPage.html).toContain('Access ended');
    expect(helperPage.html).toContain(p.email);
  });

  test('when a helper uses access at an agency, then both see the sign-in with the agency, the time and what was released', async () => {
    const { p, h, d } = await activePair({ agencies: ['*'], scopes: ['email', 'profile:name'], days: 30 });
    await recordDelegationEvent({ db: server.ds.manager, delegationId: d.id, actorId: d.helperId, type: 'signed_in', clientId: 'helpers-b', details: { scopes: ['openid', 'profile:name'] } });
    const principalPage = (await p.agent.page(`${server.url}/helpers`)).html;
    const row = principalPage.match(/<tr>(?:(?!<\/tr>)[\s\S])*Helper signed in(?:(?!<\/tr>)[\s\S])*<\/tr>/)?.[0] ?? '';
    expect(row).toContain(h.email);
    expect(row).toContain('Agency helpers-b');
    expect(row).toContain('Your verified name');
    expect(row).toMatch(/\d{4}, \d{1,2}:\d{2}\s?[AP]M UTC/);
    const helperPage = (await h.agent.page(`${server.url}/helpers`)).html;
    expect(helperPage).toContain('Helper signed in');
    expect(helperPage).toContain('Their verified name');
  });

  test('when a helper asks someone who has no account yet, then that person can sign up and answer it', async () => {
    const h = await person();
    const address = `later-${randomUUID().slice(0, 8)}@example.com`;
    const asked = await requestFrom(h, address, { agencies: ['helpers-a'], scopes: ['email'], days: 30 });
    expect(asked.principalId).toBeNull();
    expect(mailsTo(address).at(-1)).toContain('create one with this email address');
    const p = await person(address);
    const page = await p.agent.page(`${server.url}/helpers`);
    expect(page.html).toContain(`${h.email} asks to help you`);
    await p.agent.page(`${server.url}/helpers/${asked.id}/answer`);
    const ok = await post(p.agent, `/helpers/${asked.id}/answer`, [['decision', 'approve'], ...terms({ agencies: ['helpers-a'], scopes: ['email'], days: 30 }), ...(await assertion(p))]);
    expect(ok.status).toBe(303);
    const d = await server.ds.getRepository(Delegation).findOneByOrFail({ id: asked.id });
    expect(d.status).toBe('active');
    expect(d.principalId).toBe(await accountId(p));
  });

  test("when a third person tries to end or answer someone else's delegation, then it is forbidden and nothing changes", async () => {
    const { p, h, d } = await activePair();
    const stranger = await person();
    const asked = await requestFrom(h, p.email, { agencies: ['helpers-a'], scopes: ['email'], days: 30 });
    await stranger.agent.page(`${server.url}/helpers`);
    expect((await post(stranger.agent, `/helpers/${d.id}/revoke`, [])).status).toBe(403);
    expect((await post(stranger.agent, `/helpers/${asked.id}/revoke`, [])).status).toBe(403);
    expect((await post(stranger.agent, `/helpers/${asked.id}/answer`, [['decision', 'decline']])).status).toBe(403);
    expect((await post(stranger.agent, `/helpers/${d.id}/answer`, [['decision', 'decline']])).status).toBe(403);
    expect((await stranger.agent.request(`${server.url}/helpers/${asked.id}/answer`)).status).toBe(403);
    expect((await post(stranger.agent, `/helpers/${randomUUID()}/revoke`, [])).status).toBe(403);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id })).status).toBe('active');
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: asked.id })).status).toBe('requested');
    const page = await stranger.agent.page(`${server.url}/helpers`);
    expect(page.html).not.toContain(p.email);
    expect(page.html).not.toContain(h.email);
  });

  test('when a form is posted without its CSRF token, then it is refused and nothing changes', async () => {
    const { h, d } = await activePair();
    await h.agent.page(`${server.url}/helpers`);
    h.agent.csrf = 'forged';
    expect((await post(h.agent, `/helpers/${d.id}/revoke`, [])).status).toBe(403);
    expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: d.id })).status).toBe('active');
  });

  test.each([
    ['no agencies', { agencies: [], scopes: ['email'], days: 30 }, 'Agencies: choose at least one', 'agencies-error'],
    ['an end date 10 years out', { agencies: ['helpers-a'], scopes: ['email'], days: 3650 }, 'End date: choose a date no more than 3 years from today', 'end_date-error'],
    ['an unknown scope', { agencies: ['helpers-a'], scopes: ['email', 'social_security_number'], days: 30 }, 'What they may receive: one of the choices is not something a helper can receive', 'scopes-error'],
    ['an agency that does not allow helpers', { agencies: ['helpers-plain'], scopes: ['email'], days: 30 }, 'Agencies: choose at least one', 'agencies-error'],
    ['no scopes', { agencies: ['helpers-a'], scopes: [], days: 30 }, 'What they may receive: choose at least one', 'scopes-error'],
    ['an end date in the past', { agencies: ['helpers-a'], scopes: ['email'], days: -2 }, 'End date: choose a date in the future', 'end_date-error'],
  ])('when an invitation or request has %s, then it answers 400 naming the field and writes nothing', async (_name, t, message, fieldId) => {
    const p = await person();
    const pid = await accountId(p);
    const before = outboxSize();
    await p.agent.page(`${server.url}/helpers/invite`);
    const inv = await post(p.agent, '/helpers/invite', [['email', 'helper@example.com'], ...terms(t), ...(await assertion(p))]);
    expect(inv.status).toBe(400);
    const html = await inv.text();
    expect(html).toContain(message);
    expect(html).toContain(`id="${fieldId}"`);
    expect(html).toContain('role="alert"');
    await p.agent.page(`${server.url}/helpers/request`);
    const req = await post(p.agent, '/helpers/request', [['email', 'someone@example.com'], ...terms(t)]);
    expect(req.status).toBe(400);
    expect(await req.text()).toContain(message);
    expect(await server.ds.getRepository(Delegation).countBy({ principalId: pid })).toBe(0);
    expect(await server.ds.getRepository(Delegation).countBy({ helperId: pid })).toBe(0);
    expect(outboxSize()).toBe(before);
  });

  test('when the end date or email is not real, then the form says which field', async () => {
    const p = await person();
    await p.agent.page(`${server.url}/helpers/request`);
    const badDate = await post(p.agent, '/helpers/request', [['email', 'someone@example.com'], ['agencies', 'helpers-a'], ['scopes', 'email'], ['end_month', '2'], ['end_day', '30'], ['end_year', '2027']]);
    expect(badDate.status).toBe(400);
    expect(await badDate.text()).toContain('End date: enter a real date');
    const badEmail = await post(p.agent, '/helpers/request', [['email', 'not-an-email'], ...terms({ agencies: ['helpers-a'], scopes: ['email'], days: 30 })]);
    expect(badEmail.status).toBe(400);
    expect(await badEmail.text()).toContain('Email address: enter an email address');
    const self = await post(p.agent, '/helpers/request', [['email', p.email.toUpperCase()], ...terms({ agencies: ['helpers-a'], scopes: ['email'], days: 30 })]);
    expect(self.status).toBe(400);
    expect(await self.text()).toContain('not your own');
    expect(await server.ds.getRepository(Delegation).countBy({ helperId: await accountId(p) })).toBe(0);
  });
});
