import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { codeFromMail, finishAtAgency, interactionUid, openAuthorization, signUp } from '../support/flows.js';
import { documentImages, latestOutbox, postDocument, verifyIdentity } from '../support/proofingFlow.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { latestMail, startTestServer, type TestServer } from '../support/testServer.js';
import { EmailConfirmation, ProofingSession } from '../../entities/index.js';
import { createLimits, LIMITS, type Limits } from '../../src/http/limits.js';
import { clock } from '../../src/shared/clock.js';
import { randomReadableCode } from '../../src/shared/ids.js';

/**
 * Issue 16, finding 2, for everything else that can be guessed — email confirmation codes, the
 * SMS and letter codes of identity verification, the personal key: each is counted per account
 * (or per address) and per source, and what cannot be a code is refused before it counts.
 * Sources are X-Forwarded-For addresses (TRUST_PROXY); a source's count is spent through the
 * limiter itself where reaching it by hand would take dozens of accounts.
 */
let server: TestServer;
let agency: TestAgency;
let limits: Limits;

beforeAll(async () => {
  server = await startTestServer({ env: { TRUST_PROXY: 'true', RATE_LIMIT_MULTIPLIER: '1' } });
  agency = await registerAgency(server, { clientId: 'agency-guessing' });
  limits = createLimits(server.app.deps);
});
afterAll(async () => { await server.close(); });
afterEach(() => { clock.reset(); });

let nextAddress = 1;
const newSource = () => `203.0.113.${nextAddress++}`;
const newEmail = () => `guess-${randomUUID().slice(0, 8)}@example.com`;

/** An agent whose requests come from `agent.source` (as a load balancer would say it). */
function from(ip: string): Agent & { source: string } {
  const agent = Object.assign(new Agent(), { source: ip });
  const request = agent.request.bind(agent);
  agent.request = (url, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', agent.source);
    return request(url, { ...init, headers });
  };
  return agent;
}

/** Spends a source's whole count of `name`, as many tries from it would. */
const spend = (name: keyof typeof LIMITS, ip: string) => limits[name].take(ip, LIMITS[name].points);

describe('email confirmation codes', () => {
  /** A sign-up flow for `email` from `ip`, at the code page: post codes with `enter`. */
  async function signUpFlow(email: string, ip = newSource()) {
    const agent = from(ip);
    const url = await openAuthorization(agent, server, (await agency.authorize()).url);
    const base = `${server.url}/interaction/${interactionUid(url)}`;
    await agent.page(`${base}/signup`);
    expect((await agent.request(`${base}/signup`, { method: 'POST', form: { email } })).status).toBe(303);
    const mailed = codeFromMail(latestMail(server.outboxDir));
    await agent.page(`${base}/signup/code`);
    const enter = async (code: string) => {
      const res = await agent.request(`${base}/signup/code`, { method: 'POST', form: { code } });
      return { status: res.status, html: await res.text(), retryAfter: res.headers.get('retry-after') };
    };
    return { agent, base, code: mailed, enter };
  }
  const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

  test('when codes that cannot be codes are entered, then none counts and the mailed code still works', async () => {
    const flow = await signUpFlow(newEmail());
    for (const bad of ['abc', '12345', '1234567', '12a456', ' ', '١٢٣٤٥٦', '123456789012', 'x', 'x', 'x']) {
      const res = await flow.enter(bad);
      expect(res.status).toBe(400);
      expect(res.html).toContain('Enter the 6 digits of the code from the email');
    }
    expect((await server.ds.getRepository(EmailConfirmation).findOneByOrFail({ bindingId: interactionUid(flow.base) })).attempts).toBe(0);
    expect((await flow.enter(flow.code.replace(/(\d{3})/, '$1 '))).status).toBe(303);
  });

  test('when codes for one address are tried in flow after flow, from any sources, then after 20 the address is held back with a time to try again, and other addresses are not', async () => {
    const target = newEmail();
    const statuses: number[] = [];
    let last: Awaited<ReturnType<Awaited<ReturnType<typeof signUpFlow>>['enter']>> | undefined;
    for (let flowNo = 0; flowNo < 5; flowNo += 1) {
      const flow = await signUpFlow(target);
      for (let i = 0; i < 5; i += 1) {
        last = await flow.enter(wrongFor(flow.code));
        statuses.push(last.status);
      }
    }
    expect(statuses.slice(0, LIMITS.emailCodeAddress.points)).not.toContain(429);
    expect(statuses.slice(LIMITS.emailCodeAddress.points)).toEqual(Array(25 - LIMITS.emailCodeAddress.points).fill(429));
    expect(last!.html).toContain('Too many codes were entered for this email address. You can try again after');
    expect(last!.html).toMatch(/after [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s?[AP]M UTC/);
    expect(Number(last!.retryAfter)).toBeGreaterThan(23 * 3600);
    // Another address, from the same sources, is not held back.
    const other = await signUpFlow(newEmail());
    expect((await other.enter(other.code)).status).toBe(303);
  });

  test('when a source has spent its count of confirmation codes, then its next code is refused with 429, but input that is no code is still only a form error', async () => {
    const ip = newSource();
    const flow = await signUpFlow(newEmail(), ip);
    await spend('emailCodeSource', ip);
    expect((await flow.enter('abc')).status).toBe(400);
    const refused = await flow.enter(flow.code);
    expect(refused.status).toBe(429);
    expect(refused.html).toMatch(/Too many attempts\. Try again in \d+ minutes\./);
    // From another address the same (unspent) code still works.
    flow.agent.source = newSource();
    expect((await flow.enter(flow.code)).status).toBe(303);
  });
});

/** A person signed up from their own source, their identity checked up to the phone-or-letter step. */
async function atPossession() {
  const agent = from(newSource());
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const { recoveryCodes } = await signUp({ server, authenticator, authUrl: (await agency.authorize()).url, email: newEmail(), agent });
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
  return { agent, authenticator, recoveryCodes };
}

let nextPhone = 100;
/** Sends a code by SMS to a fictional number of its own; returns the code. */
async function sendSms(agent: Agent): Promise<string> {
  const res = await agent.request(`${server.url}/verify/phone`, { method: 'POST', form: { phone: `(202) 555-0${nextPhone++}` } });
  expect(res.status).toBe(303);
  await agent.page(`${server.url}/verify/code`);
  return latestOutbox(server.outboxDir, '-sms.txt').match(/\b(\d{6})\b/)![1]!;
}

async function enterCode(agent: Agent, code: string) {
  const res = await agent.request(`${server.url}/verify/code`, { method: 'POST', form: { code } });
  return { status: res.status, html: await res.text(), retryAfter: res.headers.get('retry-after') };
}

describe('identity verification codes (SMS and letter)', () => {
  test('when codes that cannot be the texted code are entered, then none counts and the texted code still works', async () => {
    const p = await atPossession();
    const code = await sendSms(p.agent);
    for (const bad of ['abc', '12345', '1234567', '12345678', 'x', 'x']) {
      const res = await enterCode(p.agent, bad);
      expect(res.status).toBe(400);
      expect(res.html).toContain('Enter the 6 digits of the code from the text message');
    }
    expect((await server.ds.getRepository(ProofingSession).findOneByOrFail({ accountId: (await accountIdOf(p.agent)) })).codeAttempts).toBe(0);
    expect((await enterCode(p.agent, `${code.slice(0, 3)}-${code.slice(3)}`)).status).toBe(303);
  });

  test('when ten codes were entered for an account in a day, then the next is refused with the time to try again, even the right one', async () => {
    const p = await atPossession();
    for (let round = 0; round < 2; round += 1) {
      const code = await sendSms(p.agent);
      for (let i = 0; i < 5; i += 1) expect((await enterCode(p.agent, code === '000000' ? '111111' : '000000')).status).toBe(400);
    }
    const code = await sendSms(p.agent);
    // A new source does not help: the count is the account's.
    p.agent.source = newSource();
    const refused = await enterCode(p.agent, code);
    expect(refused.status).toBe(429);
    expect(refused.html).toContain('You have entered as many codes as we allow for now. You can try again after');
    expect(Number(refused.retryAfter)).toBeGreaterThan(23 * 3600);
  });

  test('when a source has spent its count of verification codes, then its next code is refused, and from elsewhere the same code works', async () => {
    const p = await atPossession();
    const code = await sendSms(p.agent);
    await spend('possessionCodeSource', p.agent.source);
    expect((await enterCode(p.agent, code)).status).toBe(429);
    p.agent.source = newSource();
    expect((await enterCode(p.agent, code)).status).toBe(303);
  });
});

async function accountIdOf(agent: Agent): Promise<string> {
  const page = await agent.page(`${server.url}/account`);
  const email = page.html.match(/guess-[0-9a-f]{8}@example\.com/)![0];
  return (await server.ds.query('SELECT id FROM accounts WHERE email = ?', [email]) as Array<{ id: string }>)[0]!.id;
}

describe('the personal key', () => {
  /** A verified person who then recovered their account with a recovery code: their identity waits for the personal key. */
  async function pendingReactivation() {
    const agent = from(newSource());
    const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const { recoveryCodes } = await signUp({ server, authenticator, authUrl: (await agency.authorize()).url, email: newEmail(), agent });
    const { personalKey } = await verifyIdentity({ server, agent, authenticator, phone: `(202) 555-0${nextPhone++}` });
    const first = await agent.follow((await agency.authorize({ prompt: 'login' })).url, server.url);
    const base = `${server.url}/interaction/${interactionUid(first.url)}`;
    await agent.page(`${base}/recovery`);
    const email = (await agent.page(`${server.url}/account`)).html.match(/guess-[0-9a-f]{8}@example\.com/)![0];
    expect((await agent.request(`${base}/recovery`, { method: 'POST', form: { email, code: recoveryCodes[0]! } })).status).toBe(303);
    await agent.page(`${base}/recovery/passkey`);
    const opt = await agent.request(`${base}/recovery/passkey/options`, { method: 'POST', json: {} });
    const phone = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
    const done = await agent.request(`${base}/recovery/passkey`, { method: 'POST', form: { response: JSON.stringify(phone.createCredential({ options: await opt.json() })), name: 'New phone' } });
    expect(done.status).toBe(303);
    await finishAtAgency(agent, server, new URL(done.headers.get('location')!, server.url).toString());
    expect((await agent.page(`${server.url}/account`)).html).toContain('personal_key');
    return { agent, personalKey };
  }
  const post = (agent: Agent, key: string) => agent.request(`${server.url}/account/identity/reactivate`, { method: 'POST', form: { personal_key: key } });

  test('when keys that cannot be keys are entered, then none counts; ten wrong keys an hour are allowed, then even the right one waits; after the hour it works', async () => {
    const p = await pendingReactivation();
    for (let i = 0; i < LIMITS.personalKeyAccount.points + 5; i += 1) {
      const res = await post(p.agent, ['x', 'AAAA-BBBB-CCCC', 'AAAA-BBBB-CCCC-DDDU'][i % 3]!);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/account?error=personal_key_format');
    }
    expect((await p.agent.page(`${server.url}/account?error=personal_key_format`)).html).toContain('Personal key: enter the 16 letters and numbers of your personal key');
    for (let i = 0; i < LIMITS.personalKeyAccount.points; i += 1) {
      const res = await post(p.agent, randomReadableCode(4, 4));
      expect(res.headers.get('location')).toBe('/account?error=personal_key_wrong');
    }
    // From another source too: the count is the account's.
    p.agent.source = newSource();
    expect((await post(p.agent, p.personalKey)).status).toBe(429);
    clock.advance(LIMITS.personalKeyAccount.seconds * 1000 + 1000);
    const ok = await post(p.agent, p.personalKey);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('data-testid="personal-key"');
  });

  test('when a source has spent its count of personal keys, then its next key is refused, and from elsewhere the key works', async () => {
    const p = await pendingReactivation();
    await spend('personalKeySource', p.agent.source);
    expect((await post(p.agent, 'x')).headers.get('location')).toBe('/account?error=personal_key_format');
    expect((await post(p.agent, p.personalKey)).status).toBe(429);
    p.agent.source = newSource();
    expect((await post(p.agent, p.personalKey)).status).toBe(200);
  });
});

