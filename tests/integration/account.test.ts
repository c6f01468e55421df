import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { finishAtAgency, interactionUid, openAuthorization, signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { Passkey, RecoveryCode } from '../../entities/index.js';

let server: TestServer;
let agency: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'agency-acct' });
});
afterAll(async () => { await server.close(); });

const email = () => `acct-${randomUUID().slice(0, 8)}@example.com`;
const authenticator = () => new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });

async function person() {
  const auth = authenticator();
  const address = email();
  const a = await agency.authorize();
  const { agent, recoveryCodes } = await signUp({ server, authenticator: auth, authUrl: a.url, email: address });
  return { agent, auth, address, recoveryCodes };
}

async function accountPage(agent: Agent) {
  return agent.page(`${server.url}/account`);
}

async function addSecondPasskey(agent: Agent, second: SoftAuthenticator) {
  await agent.page(`${server.url}/account/passkeys/new`);
  const opt = await agent.request(`${server.url}/account/passkeys/options`, { method: 'POST', json: {} });
  expect(opt.status).toBe(200);
  const cred = second.createCredential({ options: await opt.json() });
  const res = await agent.request(`${server.url}/account/passkeys`, { method: 'POST', form: { response: JSON.stringify(cred), name: 'Laptop' } });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/account?notice=passkey_added');
  return cred.id;
}

async function reauth(agent: Agent, auth: SoftAuthenticator, pagePath: string, submitPath: string, form: Record<string, string> = {}) {
  await agent.page(`${server.url}${pagePath}`);
  const opt = await agent.request(`${server.url}/account/reauth/options`, { method: 'POST', json: {} });
  const assertion = auth.getAssertion({ options: await opt.json() });
  return agent.request(`${server.url}${submitPath}`, { method: 'POST', form: { response: JSON.stringify(assertion), ...form } });
}

describe('account page', () => {
  test('when a signed-in person opens their account, then they see their email, passkey, codes left, connected agency and history', async () => {
    const p = await person();
    const page = await accountPage(p.agent);
    expect(page.status).toBe(200);
    expect(page.res.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain(p.address);
    expect(page.html).toContain('Test key');
    expect(page.html).toContain('You have 10 unused recovery codes');
    expect(page.html).toContain('Agency agency-acct');
    expect(page.html).toContain('Account created');
    expect(page.html).toContain('Signed in to Agency agency-acct');
  });

  test('when nobody is signed in, then the account page sends them to sign in through the provider', async () => {
    const res = await new Agent().request(`${server.url}/account`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/signin');
    const next = await new Agent().request(`${server.url}/account/signin`);
    const url = new URL(next.headers.get('location')!);
    expect(url.pathname).toBe('/auth');
    expect(url.searchParams.get('client_id')).toBe('onedoor-account');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  });

  test('when a person adds, renames and removes a passkey, then the list follows and removal needs a fresh passkey confirmation', async () => {
    const p = await person();
    const second = authenticator();
    const id = await addSecondPasskey(p.agent, second);
    let page = await accountPage(p.agent);
    expect(page.html).toContain('Laptop');
    expect((await p.agent.page(`${server.url}/account?notice=passkey_added`)).html).toContain('Your passkey was added.');

    const rename = await p.agent.request(`${server.url}/account/passkeys/${id}/rename`, { method: 'POST', form: { name: 'Work laptop' } });
    expect(rename.status).toBe(303);
    page = await accountPage(p.agent);
    expect(page.html).toContain('Work laptop');

    // A forged confirmation does not remove anything.
    await p.agent.page(`${server.url}/account/passkeys/${id}/remove`);
    const forged = await p.agent.request(`${server.url}/account/passkeys/${id}/remove`, { method: 'POST', form: { response: '{"id":"x"}' } });
    expect(forged.status).toBe(400);
    expect(await server.ds.getRepository(Passkey).countBy({ id })).toBe(1);

    const removed = await reauth(p.agent, p.auth, `/account/passkeys/${id}/remove`, `/account/passkeys/${id}/remove`);
    expect(removed.status).toBe(303);
    expect(await server.ds.getRepository(Passkey).countBy({ id })).toBe(0);
    page = await accountPage(p.agent);
    expect(page.html).toContain('Your only passkey');
  });

  test('when a person tries to remove their last passkey, then it is refused', async () => {
    const p = await person();
    const only = p.auth.credentials[0]!.id;
    const page = await p.agent.request(`${server.url}/account/passkeys/${only}/remove`);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/account?error=last_passkey');
    const res = await reauth(p.agent, p.auth, `/account`, `/account/passkeys/${only}/remove`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account?error=last_passkey');
    expect((await p.agent.page(`${server.url}/account?error=last_passkey`)).html).toContain('remove your only passkey');
    expect(await server.ds.getRepository(Passkey).countBy({ id: only })).toBe(1);
  });

  test("when a person names another account's passkey, then nothing happens to it", async () => {
    const p = await person();
    const q = await person();
    const theirs = q.auth.credentials[0]!.id;
    const rename = await p.agent.request(`${server.url}/account/passkeys/${theirs}/rename`, { method: 'POST', form: { name: 'mine now' } });
    expect(rename.status).toBe(403);
    const row = await server.ds.getRepository(Passkey).findOneByOrFail({ id: theirs });
    expect(row.name).toBe('Test key');
  });

  test('when a form is posted without its CSRF token, then it is refused and changes nothing', async () => {
    const p = await person();
    const id = p.auth.credentials[0]!.id;
    p.agent.csrf = 'forged';
    const res = await p.agent.request(`${server.url}/account/passkeys/${id}/rename`, { method: 'POST', form: { name: 'csrf' } });
    expect(res.status).toBe(403);
    expect((await server.ds.getRepository(Passkey).findOneByOrFail({ id })).name).toBe('Test key');
  });

  test('when a person gets new recovery codes, then the old ones stop working and the new ones are stored only as hashes', async () => {
    const p = await person();
    const res = await reauth(p.agent, p.auth, '/account/recovery-codes/new', '/account/recovery-codes');
    expect(res.status).toBe(200);
    const html = await res.text();
    const codes = [...html.matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map((m) => m[1]!);
    expect(codes).toHaveLength(10);
    expect(codes).not.toContain(p.recoveryCodes[0]);
    const rows = await server.ds.getRepository(RecoveryCode).find();
    for (const c of codes) expect(rows.some((r) => r.codeHash.includes(c) || r.codeHash === c)).toBe(false);
    const agent = new Agent();
    const url = await openAuthorization(agent, server, (await agency.authorize()).url);
    const base = `${server.url}/interaction/${interactionUid(url)}`;
    const old = await agent.request(`${base}/recovery`, { method: 'POST', form: { email: p.address, code: p.recoveryCodes[0]! } });
    expect(old.status).toBe(400);
    const fresh = await agent.request(`${base}/recovery`, { method: 'POST', form: { email: p.address, code: codes[0]! } });
    expect(fresh.status).toBe(303);
  });

  test('when a person signs out everywhere, then every session of theirs ends, on every device', async () => {
    const p = await person();
    // A second device: sign in again with the same passkey from another browser.
    const other = new Agent();
    const a = await agency.authorize();
    const url = await openAuthorization(other, server, a.url);
    const base = `${server.url}/interaction/${interactionUid(url)}`;
    const opt = await other.request(`${base}/passkey/options`, { method: 'POST', json: {} });
    const done = await other.request(`${base}/passkey`, { method: 'POST', form: { response: JSON.stringify(p.auth.getAssertion({ options: await opt.json() })) } });
    await finishAtAgency(other, server, new URL(done.headers.get('location')!, server.url).toString());
    expect((await accountPage(other)).status).toBe(200);

    await accountPage(p.agent);
    const res = await p.agent.request(`${server.url}/account/sign-out-everywhere`, { method: 'POST', form: {} });
    expect(res.status).toBe(303);
    expect((await p.agent.request(`${server.url}/account`)).status).toBe(303);
    expect((await other.request(`${server.url}/account`)).status).toBe(303);
  });
});

describe('recovery codes at sign-in', () => {
  test('when a person who lost their passkey uses a recovery code, then they create a new passkey and reach the agency; the code works once', async () => {
    const p = await person();
    const fresh = authenticator();
    const agent = new Agent();
    const a = await agency.authorize();
    const url = await openAuthorization(agent, server, a.url);
    const base = `${server.url}/interaction/${interactionUid(url)}`;
    await agent.page(`${base}/recovery`);
    const res = await agent.request(`${base}/recovery`, { method: 'POST', form: { email: p.address.toUpperCase(), code: p.recoveryCodes[3]!.toLowerCase() } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/interaction/${interactionUid(url)}/recovery/passkey`);
    await agent.page(`${base}/recovery/passkey`);
    const opt = await agent.request(`${base}/recovery/passkey/options`, { method: 'POST', json: {} });
    const cred = fresh.createCredential({ options: await opt.json() });
    const done = await agent.request(`${base}/recovery/passkey`, { method: 'POST', form: { response: JSON.stringify(cred), name: 'New phone' } });
    expect(done.status).toBe(303);
    const landing = await finishAtAgency(agent, server, new URL(done.headers.get('location')!, server.url).toString());
    const tokens = await agency.redeem(landing, a);
    expect(tokens.claims()!.amr).toEqual(['otp']);

    // The same code again is refused with a readable message.
    const again = new Agent();
    const b = await agency.authorize();
    const url2 = await openAuthorization(again, server, b.url);
    const base2 = `${server.url}/interaction/${interactionUid(url2)}`;
    await again.page(`${base2}/recovery`);
    const reused = await again.request(`${base2}/recovery`, { method: 'POST', form: { email: p.address, code: p.recoveryCodes[3]! } });
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain('do not match');
  });

  test('when an unknown address or a wrong code is used, then the answer is the same', async () => {
    const p = await person();
    const agent = new Agent();
    const url = await openAuthorization(agent, server, (await agency.authorize()).url);
    const base = `${server.url}/interaction/${interactionUid(url)}`;
    const wrong = await agent.request(`${base}/recovery`, { method: 'POST', form: { email: p.address, code: 'AAAA-BBBB-CCCC' } });
    const unknown = await agent.request(`${base}/recovery`, { method: 'POST', form: { email: email(), code: p.recoveryCodes[0]! } });
    expect(wrong.status).toBe(unknown.status);
    const strip = (h: string) => h.replace(/content="[^"]*"/g, '').replace(/value="[^"]*"/g, '');
    expect(strip(await wrong.text())).toBe(strip(await unknown.text()));
  });
});

describe('sign-up', () => {
  test('when someone signs up with an address that already has an account, then the page is the same and the mail says to sign in', async () => {
    const p = await person();
    const agent = new Agent();
    const url = await openAuthorization(agent, server, (await agency.authorize()).url);
    const base = `${server.url}/interaction/${interactionUid(url)}`;
    await agent.page(`${base}/signup`);
    const res = await agent.request(`${base}/signup`, { method: 'POST', form: { email: p.address } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/signup/code');
    const { latestMail } = await import('../support/testServer.js');
    expect(latestMail(server.outboxDir)).toContain('You already have a OneDoor account');
  });

  test('when a wrong confirmation code is entered five times, then the code stops working', async () => {
    const agent = new Agent();
    const url = await openAuthorization(agent, server, (await agency.authorize()).url);
    const base = `${server.url}/interaction/${interactionUid(url)}`;
    await agent.page(`${base}/signup`);
    await agent.request(`${base}/signup`, { method: 'POST', form: { email: email() } });
    const { latestMail } = await import('../support/testServer.js');
    const { codeFromMail } = await import('../support/flows.js');
    const real = codeFromMail(latestMail(server.outboxDir));
    const wrong = real === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i += 1) await agent.request(`${base}/signup/code`, { method: 'POST', form: { code: wrong } });
    const res = await agent.request(`${base}/signup/code`, { method: 'POST', form: { code: real } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Too many wrong codes');
  });

  test('when an invalid email is entered, then the form says so and no mail is sent', async () => {
    const agent = new Agent();
    const url = await openAuthorization(agent, server, (await agency.authorize()).url);
    const base = `${server.url}/interaction/${interactionUid(url)}`;
    await agent.page(`${base}/signup`);
    const res = await agent.request(`${base}/signup`, { method: 'POST', form: { email: 'not-an-email' } });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('Enter an email address');
    expect(html).toContain('aria-invalid');
  });

  test('when one address asks for codes too often, then OneDoor answers 429 with Retry-After', async () => {
    const address = email();
    let last: Response | undefined;
    for (let i = 0; i < 6; i += 1) {
      const agent = new Agent();
      const url = await openAuthorization(agent, server, (await agency.authorize()).url);
      const base = `${server.url}/interaction/${interactionUid(url)}`;
      await agent.page(`${base}/signup`);
      last = await agent.request(`${base}/signup`, { method: 'POST', form: { email: address } });
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('pages', () => {
  test('when a page is served, then it carries a strict CSP without inline script and the security headers', async () => {
    const res = await fetch(`${server.url}/`);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  test('when the person picks Spanish or the browser prefers it, then the page is in Spanish', async () => {
    const chosen = await fetch(`${server.url}/?lang=es`);
    expect(await chosen.text()).toContain('<html lang="es">');
    const browser = await fetch(`${server.url}/`, { headers: { 'accept-language': 'es-US,es;q=0.9' } });
    expect(await browser.text()).toContain('<html lang="es">');
  });

  test('when the agency passes ui_locales=es, then the sign-in page is in Spanish', async () => {
    const agent = new Agent();
    const a = await agency.authorize({ ui_locales: 'es' });
    const url = await openAuthorization(agent, server, a.url);
    const page = await agent.page(url);
    expect(page.html).toContain('<html lang="es">');
  });
});
