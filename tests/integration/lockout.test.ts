import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { decodeMail, finishAtAgency, interactionUid, signIn, signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { Account, AuditEvent } from '../../entities/index.js';
import { RECOVERY_CODE_THROTTLE } from '../../src/accounts/recoveryCodeThrottle.js';
import { LIMITS } from '../../src/http/limits.js';
import { clock } from '../../src/shared/clock.js';
import { randomReadableCode } from '../../src/shared/ids.js';

/**
 * Issue 16, finding 2: anyone who knew an email address could lock its owner out for a day —
 * malformed recovery codes counted as failures, tries during the wait renewed it, and a valid
 * passkey was refused while it lasted. Now: what can be guessed is throttled per account and per
 * source, a malformed code counts nowhere, tries during a wait neither count nor extend it, and a
 * passkey (sign-in, step-up, re-authentication) always gets in.
 *
 * TRUST_PROXY makes OneDoor read X-Forwarded-For, so each "source" below is its own address; the
 * multiplier is 1 so per-source limits are the production ones.
 */
let server: TestServer;
let agency: TestAgency;

beforeAll(async () => {
  server = await startTestServer({ env: { TRUST_PROXY: 'true', RATE_LIMIT_MULTIPLIER: '1' } });
  agency = await registerAgency(server, { clientId: 'agency-lockout' });
});
afterAll(async () => { await server.close(); });
afterEach(() => { clock.reset(); });

let nextAddress = 1;
/** A new client address (TEST-NET-2/3), never reused across tests. */
const newSource = () => `198.51.${100 + Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 1}`;

/** An agent whose every request comes from `ip` (as a load balancer would say it). */
function from(ip: string, agent = new Agent()): Agent {
  const request = agent.request.bind(agent);
  agent.request = (url, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', ip);
    return request(url, { ...init, headers });
  };
  return agent;
}

interface Person { email: string; authenticator: SoftAuthenticator; codes: string[]; ip: string; agent: Agent }

async function person(opts: { locale?: string } = {}): Promise<Person> {
  const ip = newSource();
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const email = `lock-${randomUUID().slice(0, 8)}@example.com`;
  const auth = await agency.authorize(opts.locale ? { ui_locales: opts.locale } : {});
  const { agent, recoveryCodes } = await signUp({ server, authenticator, authUrl: auth.url, email, agent: from(ip) });
  return { email, authenticator, codes: recoveryCodes, ip, agent };
}

/** A fresh authorization from `ip`, at its sign-in page: the agent and the interaction's base URL. */
async function signInPage(ip: string): Promise<{ agent: Agent; base: string }> {
  const agent = from(ip);
  const first = await agent.follow((await agency.authorize({ prompt: 'login' })).url, server.url);
  await agent.page(first.url);
  return { agent, base: `${server.url}/interaction/${interactionUid(first.url)}` };
}

/** Posts recovery codes for `email` from one source, on one sign-in page; returns each answer. */
async function tryCodes(ip: string, email: string, codes: string[]): Promise<Array<{ status: number; html: string; retryAfter: string | null }>> {
  const { agent, base } = await signInPage(ip);
  await agent.page(`${base}/recovery`);
  const out = [];
  for (const code of codes) {
    const res = await agent.request(`${base}/recovery`, { method: 'POST', form: { email, code } });
    out.push({ status: res.status, html: await res.text(), retryAfter: res.headers.get('retry-after') });
  }
  return out;
}

const wrongCodes = (n: number) => Array.from({ length: n }, () => randomReadableCode(3, 4));
const account = (email: string) => server.ds.getRepository(Account).findOneByOrFail({ email });

/** Every mail to an address so far, decoded, once at least `atLeast` have been written (alerts go out in the background). */
async function mailsTo(address: string, atLeast = 0): Promise<string[]> {
  const read = () => fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml')).sort()
    // decodeMail gives the headers and body as text (UTF-8 decoded).
    .map((f) => decodeMail(fs.readFileSync(path.join(server.outboxDir, f), 'utf8')))
    .filter((m) => m.split(/\r?\n/).some((l) => l.toLowerCase() === `to: ${address}`));
  for (let i = 0; i < 800 && read().length < atLeast; i += 1) await new Promise((r) => setTimeout(r, 25));
  return read();
}
const alerts = (mails: string[]) => mails.filter((m) => /entered a wrong recovery code|escribió un código de recuperación incorrecto/.test(m));

/** Signs in with the passkey (discoverable, or email-first) from `ip`; the response to the assertion. */
async function passkeySignIn(p: Person, ip: string, email = ''): Promise<Response> {
  const { agent, base } = await signInPage(ip);
  const options = await agent.request(`${base}/passkey/options`, { method: 'POST', json: { email } });
  expect(options.status).toBe(200);
  const assertion = p.authenticator.getAssertion({ options: await options.json() });
  return agent.request(`${base}/passkey`, { method: 'POST', form: { response: JSON.stringify(assertion), email } });
}

/** The person uses a recovery code, adds a passkey on `newPhone`, and reaches the agency: a session at AAL1. */
async function recoverWith(p: Person, code: string, newPhone: SoftAuthenticator): Promise<Agent> {
  const { agent, base } = await signInPage(p.ip);
  await agent.page(`${base}/recovery`);
  const res = await agent.request(`${base}/recovery`, { method: 'POST', form: { email: p.email, code } });
  expect(res.status).toBe(303);
  await agent.page(`${base}/recovery/passkey`);
  const opt = await agent.request(`${base}/recovery/passkey/options`, { method: 'POST', json: {} });
  const created = await agent.request(`${base}/recovery/passkey`, { method: 'POST', form: { response: JSON.stringify(newPhone.createCredential({ options: await opt.json() })), name: 'New phone' } });
  expect(created.status).toBe(303);
  await finishAtAgency(agent, server, new URL(created.headers.get('location')!, server.url).toString());
  return agent;
}

test('when a stranger posts 100 malformed and then many wrong recovery codes for a person\'s address, from one source and then from many, then the person still signs in, steps up and re-authenticates with their passkey at once, and a right code works when the wait ends', async () => {
  const victim = await person();
  // The person once used a recovery code: their session is AAL1, so an AAL2 agency asks them to step up.
  const aal1 = await recoverWith(victim, victim.codes[0]!, new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }));
  const attacker = newSource();

  // 1. The reproduction: 100 posts of `code=x`, and codes that cannot be codes (a letter outside
  //    the alphabet, one character short or long). None of them counts, anywhere.
  const malformed = await tryCodes(attacker, victim.email, [...Array(100).fill('x'), 'AAAA-BBBB-CCCU', 'AAAA-BBBB-CCC', 'AAAA-BBBB-CCCCC']);
  expect(malformed.map((r) => r.status)).toEqual(Array(103).fill(400));
  expect(malformed[0]!.html).toContain('Recovery code: enter one of your recovery codes');
  expect(await account(victim.email)).toMatchObject({ failedAttempts: 0, lockedUntil: null, recoveryAlertedAt: null });

  // 2. Well-formed wrong codes from that one source: its count (20 an hour) runs out and it gets
  //    429; the account counted 10 and then its recovery codes wait a minute (the tries that
  //    arrived during the wait were refused without counting).
  const wrong = await tryCodes(attacker, victim.email, wrongCodes(LIMITS.recoveryCodeSource.points + 5));
  expect(wrong.slice(0, LIMITS.recoveryCodeSource.points).map((r) => r.status)).toEqual(Array(LIMITS.recoveryCodeSource.points).fill(400));
  expect(wrong.slice(LIMITS.recoveryCodeSource.points).map((r) => r.status)).toEqual(Array(5).fill(429));
  expect(Number(wrong.at(-1)!.retryAfter)).toBeGreaterThan(0);
  let row = await account(victim.email);
  expect(row.failedAttempts).toBe(RECOVERY_CODE_THROTTLE.stepFailures);
  expect(row.lockedUntil!.getTime() - clock.nowMs()).toBeGreaterThan(50_000);

  // 3. From many sources, each waiting out the account's pause (the test clock): the count
  //    reaches 100 and the recovery codes wait a day. Tries during every pause are refused and
  //    counted nowhere — not even the ten after the day's wait began, which used to renew it.
  for (let round = 2; round <= 10; round += 1) {
    clock.set(new Date(row.lockedUntil!.getTime() + 1000));
    expect((await tryCodes(newSource(), victim.email, wrongCodes(10))).map((r) => r.status)).toEqual(Array(10).fill(400));
    const paused = await account(victim.email);
    expect(paused.failedAttempts).toBe(10 * round);
    await tryCodes(newSource(), victim.email, wrongCodes(3));
    expect(await account(victim.email)).toMatchObject({ failedAttempts: 10 * round, lockedUntil: paused.lockedUntil });
    row = paused;
  }
  expect(row.lockedUntil!.getTime() - clock.nowMs()).toBeGreaterThan(23.9 * 3600_000);
  for (let i = 0; i < 10; i += 1) await tryCodes(newSource(), victim.email, wrongCodes(1));
  expect(await account(victim.email)).toMatchObject({ failedAttempts: 100, lockedUntil: row.lockedUntil });
  clock.reset();

  // 4. The person, with their passkey, is never held back: a normal sign-in (from their own
  //    address, and email-first from the attacker's), a step-up to AAL2, and a re-authentication
  //    on their account page.
  expect((await passkeySignIn(victim, victim.ip)).status).toBe(303);
  expect((await passkeySignIn(victim, attacker, victim.email)).status).toBe(303);

  const strong = await agency.authorize({ acr_values: 'urn:onedoor:aal:2' });
  const { url: at } = await aal1.follow(strong.url, server.url);
  expect(at).toContain('/interaction/');
  const stepUp = await aal1.page(at);
  expect(stepUp.html).toContain('stepup/options');
  const base = `${server.url}/interaction/${interactionUid(at)}`;
  const options = await aal1.request(`${base}/stepup/options`, { method: 'POST', json: {} });
  const stepped = await aal1.request(`${base}/stepup`, { method: 'POST', form: { response: JSON.stringify(victim.authenticator.getAssertion({ options: await options.json() })) } });
  expect(stepped.status).toBe(303);
  const landing = await finishAtAgency(aal1, server, new URL(stepped.headers.get('location')!, server.url).toString());
  expect((await agency.redeem(landing, strong)).claims()!.acr).toBe('urn:onedoor:aal:2');

  await victim.agent.page(`${server.url}/account/recovery-codes/new`);
  const reauthOptions = await victim.agent.request(`${server.url}/account/reauth/options`, { method: 'POST', json: {} });
  const regenerated = await victim.agent.request(`${server.url}/account/recovery-codes`, { method: 'POST', form: { response: JSON.stringify(victim.authenticator.getAssertion({ options: await reauthOptions.json() })) } });
  expect(regenerated.status).toBe(200);
  const fresh = [...(await regenerated.text()).matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map((m) => m[1]!);
  expect(fresh).toHaveLength(10);

  // The passkey left the recovery-code count alone (it would otherwise hand a guesser a fresh hundred).
  expect(await account(victim.email)).toMatchObject({ failedAttempts: 100, lockedUntil: row.lockedUntil });
  // The person was told by mail that someone tried their recovery codes.
  expect(alerts(await mailsTo(victim.email, 1)).length).toBeGreaterThanOrEqual(1);

  // 5. While the codes wait, even a right one is refused, with the same answer as a wrong one.
  const during = await tryCodes(newSource(), victim.email, [fresh[0]!]);
  expect(during[0]!.status).toBe(400);
  expect(during[0]!.html).toContain('do not match, or there were too many unsuccessful attempts');

  // 6. When the day's wait is over, a right code works (from any source) and the count ends.
  clock.set(new Date(row.lockedUntil!.getTime() + 1000));
  const after = await tryCodes(newSource(), victim.email, [fresh[1]!]);
  expect(after[0]!.status).toBe(303);
  expect(await account(victim.email)).toMatchObject({ failedAttempts: 0, lockedUntil: null });
});

test('when a stranger posts failed passkey assertions naming a person\'s credential, then none count against the account, the stranger\'s source is held back, and the person signs in even from that address', async () => {
  const victim = await person();
  const stranger = newSource();
  const { agent, base } = await signInPage(stranger);
  const statuses: number[] = [];
  for (let i = 0; i < LIMITS.passkeyFailureSource.points + 3; i += 1) {
    const options = await agent.request(`${base}/passkey/options`, { method: 'POST', json: { email: '' } });
    // The credential id is the person's (it can be read off a page); the signature cannot be theirs.
    const forged = victim.authenticator.getAssertion({ options: await options.json(), badSignature: true });
    statuses.push((await agent.request(`${base}/passkey`, { method: 'POST', form: { response: JSON.stringify(forged), email: '' } })).status);
  }
  expect(statuses.slice(0, LIMITS.passkeyFailureSource.points)).toEqual(Array(LIMITS.passkeyFailureSource.points).fill(400));
  expect(statuses.slice(LIMITS.passkeyFailureSource.points)).toEqual([429, 429, 429]);
  const row = await account(victim.email);
  expect(row).toMatchObject({ failedAttempts: 0, lockedUntil: null });
  // Past its count, the stranger's failures no longer reach the person's history.
  expect(await server.ds.getRepository(AuditEvent).countBy({ accountId: row.id, type: 'sign_in_failed' })).toBe(LIMITS.passkeyFailureSource.points);

  // A valid assertion is verified before the source's count is looked at: the person gets in,
  // even from the very address that is being held back.
  expect((await passkeySignIn(victim, stranger)).status).toBe(303);
  expect((await passkeySignIn(victim, stranger, victim.email)).status).toBe(303);
  const { landing } = await signIn({ server, authenticator: victim.authenticator, authUrl: (await agency.authorize({ prompt: 'login' })).url, agent: from(stranger) });
  expect(landing).toContain('code=');
});

test('when recovery codes are tried from one source, then that source is held back with 429 after 20, whatever the address, and another source is not', async () => {
  const p = await person();
  const ip = newSource();
  const unknown = `nobody-${randomUUID().slice(0, 8)}@example.com`;
  const first = await tryCodes(ip, unknown, wrongCodes(LIMITS.recoveryCodeSource.points));
  expect(first.map((r) => r.status)).toEqual(Array(LIMITS.recoveryCodeSource.points).fill(400));
  // Spent: the known address and the unknown one get the same 429 page.
  const [known, stranger] = [(await tryCodes(ip, p.email, [p.codes[1]!]))[0]!, (await tryCodes(ip, unknown, wrongCodes(1)))[0]!];
  expect(known.status).toBe(429);
  const main = (html: string) => html.match(/<main[\s\S]*<\/main>/)![0];
  expect(main(known.html)).toBe(main(stranger.html));
  expect(main(known.html)).toMatch(/Too many attempts\. Try again in \d+ minutes\./);
  expect(Number(known.retryAfter)).toBeGreaterThan(3000);
  // The right code was not even checked, so it is not spent: from another source it works.
  expect((await tryCodes(newSource(), p.email, [p.codes[1]!]))[0]!.status).toBe(303);
  // After the hour, the source may try again.
  clock.advance(LIMITS.recoveryCodeSource.seconds * 1000 + 1000);
  expect((await tryCodes(ip, unknown, wrongCodes(1)))[0]!.status).toBe(400);
});

test('when someone tries recovery codes on a person\'s account, then the person is told by mail in their language, at most once an hour', async () => {
  const p = await person({ locale: 'es' });
  expect((await account(p.email)).locale).toBe('es');
  await tryCodes(newSource(), p.email, wrongCodes(3));
  const first = alerts(await mailsTo(p.email, 2));
  expect(first).toHaveLength(1);
  expect(first[0]).toContain('Alguien escribió un código de recuperación incorrecto');
  expect(first[0]).toContain(`${server.url}/account`);
  const alertedAt = (await account(p.email)).recoveryAlertedAt!;
  expect(alertedAt).toBeInstanceOf(Date);

  // Within the hour: no second mail (the hour is claimed in the request, so this is settled when it answers).
  clock.advance(59 * 60 * 1000);
  await tryCodes(newSource(), p.email, wrongCodes(1));
  expect((await account(p.email)).recoveryAlertedAt).toEqual(alertedAt);

  // Past the hour: the next try brings the next mail.
  clock.advance(2 * 60 * 1000);
  await tryCodes(newSource(), p.email, wrongCodes(1));
  expect(alerts(await mailsTo(p.email, 3))).toHaveLength(2);
  // Malformed codes are no try, and a right code is no alert: neither claims an hour.
  const second = (await account(p.email)).recoveryAlertedAt;
  expect(second!.getTime()).toBeGreaterThan(alertedAt.getTime());
  clock.advance(61 * 60 * 1000);
  await tryCodes(newSource(), p.email, ['x', 'ABC']);
  expect((await tryCodes(newSource(), p.email, [p.codes[2]!]))[0]!.status).toBe(303);
  expect((await account(p.email)).recoveryAlertedAt).toEqual(second);
});
