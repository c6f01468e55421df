import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { invitationCodeFrom, signUp } from '../support/flows.js';
import { documentImages, postDocument } from '../support/proofingFlow.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';
import { Account, Delegation } from '../../entities/index.js';
import { answerInvitation } from '../../src/delegation/manageDelegations.js';
import { delegationDeps } from '../../src/http/deps.js';
import { LIMITS } from '../../src/http/limits.js';
import { clock } from '../../src/shared/clock.js';

/**
 * Issue 16, finding 8: what OneDoor sends costs money or lands in someone's phone, letterbox or
 * inbox, so sending is limited on its own — per account and per destination, apart from code
 * entry — with a page that says when the person can try again. And an invitation code opens the
 * invitation only for the account of the address it was sent to.
 */
let server: TestServer;
let agency: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'agency-sending', extra: { delegation_enabled: true } });
});
afterAll(async () => { await server.close(); });
afterEach(() => { clock.reset(); });

const newEmail = () => `send-${randomUUID().slice(0, 8)}@example.com`;
const files = (suffix: string) => fs.readdirSync(server.outboxDir).filter((f) => f.endsWith(suffix)).length;

interface Person { agent: Agent; auth: SoftAuthenticator; email: string }

async function person(email = newEmail()): Promise<Person> {
  const auth = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const { agent } = await signUp({ server, authenticator: auth, authUrl: (await agency.authorize()).url, email });
  return { agent, auth, email };
}

/** A person whose identity is checked up to the phone-or-letter step. */
async function atPossession(): Promise<Person> {
  const p = await person();
  const { agent } = p;
  expect((await agent.request(`${server.url}/verify`)).status).toBe(303);
  await agent.page(`${server.url}/verify/consent`);
  await agent.request(`${server.url}/verify/consent`, { method: 'POST', form: { agree: 'yes' } });
  await agent.page(`${server.url}/verify/document`);
  expect((await postDocument(agent, server, await documentImages())).status).toBe(303);
  await agent.page(`${server.url}/verify/ssn`);
  await agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn: '123-45-6789', dob_month: '04', dob_day: '12', dob_year: '1985' } });
  await agent.page(`${server.url}/verify/records`);
  expect((await agent.request(`${server.url}/verify/records`, { method: 'POST', form: {} })).status).toBe(303);
  await agent.page(`${server.url}/verify/possession`);
  return p;
}

async function send(agent: Agent, what: 'phone' | 'letter', phone?: string) {
  await agent.page(`${server.url}/verify/possession`);
  const res = await agent.request(`${server.url}/verify/${what}`, { method: 'POST', form: phone ? { phone } : {} });
  return { status: res.status, html: await res.text(), retryAfter: res.headers.get('retry-after') };
}

describe('text messages and letters', () => {
  test('when an account asks for a fourth text message within the hour, then it is refused with when it may ask again, nothing is sent, and the code it has still works', async () => {
    const p = await atPossession();
    for (const n of ['0101', '0102', '0103']) expect((await send(p.agent, 'phone', `(202) 555-${n}`)).status).toBe(303);
    const code = fs.readFileSync(path.join(server.outboxDir, fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('-sms.txt')).sort().at(-1)!), 'utf8').match(/\b(\d{6})\b/)![1]!;
    const before = files('-sms.txt');
    const refused = await send(p.agent, 'phone', '(202) 555-0104');
    expect(refused.status).toBe(429);
    expect(refused.html).toContain('You have asked for as many text messages as we can send for now. You can ask for another after');
    expect(refused.html).toMatch(/after [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s?[AP]M UTC, or get a letter instead/);
    const retry = Number(refused.retryAfter);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(LIMITS.smsAccount.seconds);
    expect(files('-sms.txt')).toBe(before);
    // Sending and code entry are limited apart: the code already sent is still accepted.
    await p.agent.page(`${server.url}/verify/code`);
    expect((await p.agent.request(`${server.url}/verify/code`, { method: 'POST', form: { code } })).status).toBe(303);
  });

  test('when one phone number has had five text messages today, from any accounts, then a sixth is refused, and another number is not', async () => {
    const [a, b, c] = [await atPossession(), await atPossession(), await atPossession()];
    const phone = '(202) 555-0142';
    for (let i = 0; i < 3; i += 1) expect((await send(a.agent, 'phone', phone)).status).toBe(303);
    for (let i = 0; i < 2; i += 1) expect((await send(b.agent, 'phone', '+1 202 555 0142')).status).toBe(303);
    // The same number however it is written; an account that sent nothing yet makes no difference.
    const refused = await send(c.agent, 'phone', '202.555.0142');
    expect(refused.status).toBe(429);
    expect(refused.html).toContain('You can ask for another after');
    expect(Number(refused.retryAfter)).toBeGreaterThan(20 * 3600);
    expect((await send(c.agent, 'phone', '(202) 555-0143')).status).toBe(303);
  });

  test('when a phone number is not a number, then the form says so and nothing is counted', async () => {
    const p = await atPossession();
    for (let i = 0; i < 5; i += 1) expect((await send(p.agent, 'phone', 'not a phone')).status).toBe(400);
    for (const n of ['0111', '0112', '0113']) expect((await send(p.agent, 'phone', `(202) 555-${n}`)).status).toBe(303);
  });

  test('when an account asks for a third letter within a month, or an address has had three, then it is refused with the date it may ask again', async () => {
    const a = await atPossession();
    for (let i = 0; i < 2; i += 1) expect((await send(a.agent, 'letter')).status).toBe(303);
    const before = files('-letter.txt');
    const refused = await send(a.agent, 'letter');
    expect(refused.status).toBe(429);
    expect(refused.html).toContain('You have asked for as many letters as we can send for now. You can ask for another after');
    expect(Number(refused.retryAfter)).toBeGreaterThan(29 * 86400);
    expect(files('-letter.txt')).toBe(before);
    // Another person at the same address (every sandbox ID lives at 123 MAIN ST): one more letter, then the address is held back.
    const b = await atPossession();
    expect((await send(b.agent, 'letter')).status).toBe(303);
    expect((await send(b.agent, 'letter')).status).toBe(429);
    // A month later the account may ask again.
    clock.advance(LIMITS.letterAccount.seconds * 1000 + 1000);
    expect((await send(a.agent, 'letter')).status).toBe(303);
  });
});

describe('helper invitations and requests', () => {
  async function assertion(p: Person): Promise<Array<[string, string]>> {
    const opt = await p.agent.request(`${server.url}/helpers/reauth/options`, { method: 'POST', json: {} });
    return [['response', JSON.stringify(p.auth.getAssertion({ options: await opt.json() }))]];
  }
  function terms(): Array<[string, string]> {
    const d = new Date(clock.nowMs() + 30 * 86400 * 1000);
    return [['agencies', 'agency-sending'], ['scopes', 'email'], ['end_month', String(d.getUTCMonth() + 1)], ['end_day', String(d.getUTCDate())], ['end_year', String(d.getUTCFullYear())]];
  }
  const post = (p: Person, pathname: string, pairs: Array<[string, string]>) => p.agent.request(`${server.url}${pathname}`, {
    method: 'POST', body: new URLSearchParams([['_csrf', p.agent.csrf], ...pairs]).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  async function invite(p: Person, email: string): Promise<Response> {
    await p.agent.page(`${server.url}/helpers/invite`);
    return post(p, '/helpers/invite', [['email', email], ...terms(), ...(await assertion(p))]);
  }
  async function ask(p: Person, email: string): Promise<Response> {
    await p.agent.page(`${server.url}/helpers/request`);
    return post(p, '/helpers/request', [['email', email], ...terms()]);
  }
  const mails = () => files('.eml');

  test('when an account has sent ten invitations and requests today, then the next of either is refused with when it may send again, and nothing is written or mailed', async () => {
    const p = await person();
    for (let i = 0; i < LIMITS.helperMailAccount.points; i += 1) {
      const res = i % 2 ? await ask(p, newEmail()) : await invite(p, newEmail());
      expect(res.status).toBe(303);
    }
    const [before, rows] = [mails(), await server.ds.getRepository(Delegation).count()];
    for (const res of [await invite(p, newEmail()), await ask(p, newEmail())]) {
      expect(res.status).toBe(429);
      const html = await res.text();
      expect(html).toContain('Email address: OneDoor has sent as many helper invitations and requests as it can for now, from you or to this address. You can send another after');
      expect(html).toContain('id="email-error"');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(20 * 3600);
    }
    expect(mails()).toBe(before);
    expect(await server.ds.getRepository(Delegation).count()).toBe(rows);
  });

  test('when one address has been sent three invitations or requests today, from any accounts, then a fourth sender is refused, and that sender can still write to others', async () => {
    const target = newEmail();
    const senders = [await person(), await person(), await person(), await person()];
    expect((await invite(senders[0]!, target)).status).toBe(303);
    expect((await ask(senders[1]!, target.toUpperCase())).status).toBe(303);
    expect((await invite(senders[2]!, ` ${target}`)).status).toBe(303);
    const before = mails();
    expect((await ask(senders[3]!, target)).status).toBe(429);
    expect((await invite(senders[3]!, target)).status).toBe(429);
    expect(mails()).toBe(before);
    expect((await invite(senders[3]!, newEmail())).status).toBe(303);
  });

  describe('an invitation belongs to the address it was sent to', () => {
    const mainOf = (html: string) => html.match(/<main[\s\S]*<\/main>/)![0].replace(/name="_csrf" value="[^"]*"/g, '');

    test('when someone signed in with another address uses a leaked code, then the offer and the answer both say it was sent to another address, show nothing of it, change nothing and spend nothing; the invited person then accepts', async () => {
      const [principal, helper, other] = [await person(), await person(), await person()];
      expect((await invite(principal, helper.email.toUpperCase())).status).toBe(303);
      const code = invitationCodeFrom(latestMail(server.outboxDir));
      const before = await server.ds.getRepository(Delegation).findOneByOrFail({ inviteeEmail: helper.email });
      const mailCount = mails();

      await other.agent.page(`${server.url}/helpers/accept`);
      const offer = await post(other, '/helpers/accept', [['code', code]]);
      const accept = await post(other, '/helpers/accept/answer', [['code', code], ['decision', 'accept']]);
      const decline = await post(other, '/helpers/accept/answer', [['code', code.toLowerCase()], ['decision', 'decline']]);
      for (const res of [offer, accept, decline]) expect(res.status).toBe(403);
      const [offerHtml, acceptHtml, declineHtml] = [await offer.text(), await accept.text(), await decline.text()];
      // One page for reading and for answering: the answer tells nothing the offer did not.
      expect(mainOf(acceptHtml)).toBe(mainOf(offerHtml));
      expect(mainOf(declineHtml)).toBe(mainOf(offerHtml));
      expect(offerHtml).toContain('This invitation is for another email address');
      expect(offerHtml).toContain(`the one of the OneDoor account you are signed in with (${other.email})`);
      expect(offerHtml).toContain(`Or ask the person who invited you to send a new invitation to ${other.email}`);
      for (const secret of [principal.email, helper.email, 'Agency agency-sending', code]) expect(mainOf(offerHtml)).not.toContain(secret);

      const after = await server.ds.getRepository(Delegation).findOneByOrFail({ id: before.id });
      expect(after).toMatchObject({ status: 'invited', helperId: null, inviteHash: before.inviteHash });
      expect(mails()).toBe(mailCount);
      // The service refuses it too, whoever calls it.
      const otherId = (await server.ds.getRepository(Account).findOneByOrFail({ email: other.email })).id;
      expect(await answerInvitation(delegationDeps(server.app.deps), { helperId: otherId, code, accept: true })).toEqual({ ok: false, reason: 'other_address' });

      // The person it was sent to reads the offer and accepts.
      await helper.agent.page(`${server.url}/helpers/accept`);
      const theirs = await post(helper, '/helpers/accept', [['code', code]]);
      expect(theirs.status).toBe(200);
      expect(await theirs.text()).toContain(principal.email);
      const accepted = await post(helper, '/helpers/accept/answer', [['code', code], ['decision', 'accept']]);
      expect(accepted.status).toBe(303);
      expect((await server.ds.getRepository(Delegation).findOneByOrFail({ id: before.id })).status).toBe('active');
    });

    test('when a code is wrong or was never sent, then the other-address page never appears: it only follows a code that opens an invitation', async () => {
      const other = await person();
      await other.agent.page(`${server.url}/helpers/accept`);
      const wrong = await post(other, '/helpers/accept', [['code', 'K7QM-3XTP-9RWA']]);
      expect(wrong.status).toBe(400);
      expect(await wrong.text()).toContain('that code is not right, was already used or has expired');
      const malformed = await post(other, '/helpers/accept', [['code', 'x']]);
      expect(malformed.status).toBe(400);
      expect(await malformed.text()).toContain('Invitation code: enter the 12 letters and numbers');
    });
  });
});

