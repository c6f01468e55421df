import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { interactionUid, signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { Account } from '../../entities/index.js';

/**
 * Nobody can learn whether an address has a OneDoor account from sign-up, email-first sign-in
 * or recovery: a known address and an unknown one get the same status, page and message.
 */
let server: TestServer;
let agency: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'agency-enum' });
});
afterAll(async () => { await server.close(); });

const email = () => `enum-${randomUUID().slice(0, 8)}@example.com`;

async function person() {
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const address = email();
  const { recoveryCodes } = await signUp({ server, authenticator, authUrl: (await agency.authorize()).url, email: address });
  return { authenticator, address, recoveryCodes };
}

/** A stranger's fresh authorization: their agent and the interaction's base URL. */
async function stranger() {
  const agent = new Agent();
  const first = await agent.follow((await agency.authorize()).url, server.url);
  await agent.page(first.url);
  return { agent, base: `${server.url}/interaction/${interactionUid(first.url)}` };
}

/** The page's error message (what a person reads), without tokens that differ per request. */
const errorText = (html: string) => html.match(/<div class="usa-alert[^"]*usa-alert--error[\s\S]*?<\/div>\s*<\/div>/)?.[0] ?? html.match(/usa-alert--error[\s\S]{0,400}/)?.[0] ?? '';

test('when someone starts a sign-up with an address that has an account and with one that has none, then both get the same redirect and page', async () => {
  const known = (await person()).address;
  const answers = [];
  for (const address of [known, email()]) {
    const s = await stranger();
    await s.agent.page(`${s.base}/signup`);
    const res = await s.agent.request(`${s.base}/signup`, { method: 'POST', form: { email: address } });
    const page = await s.agent.page(`${s.base}/signup/code`);
    answers.push({ status: res.status, location: res.headers.get('location')!.replace(/\/interaction\/[^/]+/, ''), page: page.status, h1: page.html.match(/<h1[^>]*>([^<]*)</)?.[1] });
  }
  expect(answers[0]).toEqual(answers[1]);
  expect(answers[0]!.status).toBe(303);
});

test('when someone types an address for passkey sign-in, then the options look the same with or without an account, and their own passkey fails alike', async () => {
  const victim = await person();
  const attacker = await person();
  const outcomes = [];
  for (const address of [victim.address, email()]) {
    const s = await stranger();
    const res = await s.agent.request(`${s.base}/passkey/options`, { method: 'POST', json: { email: address } });
    expect(res.status).toBe(200);
    const options = await res.json() as Record<string, unknown>;
    const { challenge: _challenge, ...shape } = options;
    const assertion = attacker.authenticator.getAssertion({ options: options as never });
    const done = await s.agent.request(`${s.base}/passkey`, { method: 'POST', form: { response: JSON.stringify(assertion), email: address } });
    outcomes.push({ shape, status: done.status, error: errorText(await done.text()) });
  }
  expect(outcomes[0]).toEqual(outcomes[1]);
  expect(outcomes[0]!.status).toBe(400);
  expect((outcomes[0]!.shape as { allowCredentials?: unknown[] }).allowCredentials ?? []).toEqual([]);
});

test('when a recovery code is tried for an unknown address, a wrong code and a locked account, then all three get the same status and message', async () => {
  const p = await person();
  const locked = await person();
  await server.ds.getRepository(Account).update({ email: locked.address }, { lockedUntil: new Date(Date.now() + 3600_000) });
  const outcomes = [];
  for (const [address, code] of [[email(), p.recoveryCodes[0]!], [p.address, 'AAAA-BBBB-CCCC'], [locked.address, locked.recoveryCodes[0]!]] as const) {
    const s = await stranger();
    await s.agent.page(`${s.base}/recovery`);
    const res = await s.agent.request(`${s.base}/recovery`, { method: 'POST', form: { email: address, code } });
    const html = await res.text();
    outcomes.push({ status: res.status, error: errorText(html).replace(address, '') });
  }
  expect(outcomes[0]!.status).toBe(400);
  expect(outcomes[0]!.error).not.toBe('');
  expect(outcomes[1]).toEqual(outcomes[0]);
  expect(outcomes[2]).toEqual(outcomes[0]);
});

test('when recovery codes paused by wrong codes, unknown addresses and codes that cannot be codes are tried, then a known and an unknown address get the same answers', async () => {
  const paused = await person();
  // Ten real wrong codes pause this account's recovery codes (no database shortcut).
  const s = await stranger();
  await s.agent.page(`${s.base}/recovery`);
  for (let i = 0; i < 10; i += 1) await s.agent.request(`${s.base}/recovery`, { method: 'POST', form: { email: paused.address, code: 'AAAA-BBBB-CCCC' } });
  expect((await server.ds.getRepository(Account).findOneByOrFail({ email: paused.address })).lockedUntil).toBeInstanceOf(Date);
  const answer = async (address: string, code: string) => {
    const t = await stranger();
    await t.agent.page(`${t.base}/recovery`);
    const res = await t.agent.request(`${t.base}/recovery`, { method: 'POST', form: { email: address, code } });
    return { status: res.status, error: errorText(await res.text()).replace(address, '') };
  };
  const unknown = email();
  // A right code while paused answers exactly as any code for an address without an account.
  expect(await answer(paused.address, paused.recoveryCodes[0]!)).toEqual(await answer(unknown, paused.recoveryCodes[0]!));
  // Input that cannot be a code is refused the same way before anyone is looked up.
  const malformed = await answer(paused.address, 'x');
  expect(malformed).toEqual(await answer(unknown, 'x'));
  expect(malformed.status).toBe(400);
  expect(malformed.error).toContain('Recovery code: enter one of your recovery codes');
});
