import fs from 'node:fs';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { signUp } from '../support/flows.js';
import { documentImages, postDocument } from '../support/proofingFlow.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Security review (issue 16, finding 5): the CSRF token is checked on every unsafe request,
// whatever its content type; it is bound to the person's provider session; outside localhost
// its seed cookie cannot be planted by a sibling subdomain.
let server: TestServer;
let agency: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'agency-csrf', extra: { max_ial: 2 } });
});
afterAll(async () => { await server.close(); });

async function person() {
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const a = await agency.authorize();
  const { agent } = await signUp({ server, authenticator, authUrl: a.url, email: `csrf-${randomUUID().slice(0, 8)}@example.com` });
  await agent.page(`${server.url}/account`);
  return { agent, authenticator };
}

/** Where /verify sends the person now: the step their verification stands at. */
async function verificationStep(agent: Agent): Promise<string | null> {
  const res = await agent.request(`${server.url}/verify`);
  return res.headers.get('location');
}

/** Starts verification and agrees: the document upload is next (its page loaded). */
async function toDocumentStep(agent: Agent) {
  await verificationStep(agent);
  await agent.page(`${server.url}/verify/consent`);
  expect((await agent.request(`${server.url}/verify/consent`, { method: 'POST', form: { agree: 'yes' } })).status).toBe(303);
  await agent.page(`${server.url}/verify/document`);
}

async function toRecordsStep(agent: Agent) {
  await toDocumentStep(agent);
  expect((await postDocument(agent, server, await documentImages())).status).toBe(303);
  await agent.page(`${server.url}/verify/ssn`);
  expect((await agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn: '123-45-6789', dob_month: '04', dob_day: '12', dob_year: '1985' } })).status).toBe(303);
  expect(await verificationStep(agent)).toBe('/verify/records');
}

const letters = () => fs.existsSync(server.outboxDir) ? fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('-letter.txt')).length : 0;

/** Requests a forger can make a browser send without the page's token (or with a wrong one). */
function forgeries(wrongToken: string): Array<{ name: string; init: () => RequestInit }> {
  const multipart = (token?: string) => () => {
    const form = new FormData();
    if (token !== undefined) form.set('_csrf', token);
    form.set('agree', 'yes');
    return { body: form };
  };
  return [
    { name: 'multipart without a token', init: multipart() },
    { name: 'multipart with a wrong token', init: multipart(wrongToken) },
    { name: 'text/plain', init: () => ({ body: `_csrf=${wrongToken}`, headers: { 'content-type': 'text/plain' } }) },
    { name: 'JSON without the header', init: () => ({ body: JSON.stringify({ agree: 'yes' }), headers: { 'content-type': 'application/json' } }) },
    { name: 'JSON with a wrong token', init: () => ({ body: JSON.stringify({ _csrf: wrongToken }), headers: { 'content-type': 'application/json' } }) },
    { name: 'no content type', init: () => ({}) },
    { name: 'an unknown content type', init: () => ({ body: '<x/>', headers: { 'content-type': 'application/x-onedoor-unknown' } }) },
  ];
}

describe('CSRF on every unsafe request, whatever its content type', () => {
  test('when a forged POST of any content type goes to /account/sign-out-everywhere, then it is refused and every session stays alive', async () => {
    const victim = await person();
    for (const forged of forgeries('forged-token')) {
      const res = await victim.agent.request(`${server.url}/account/sign-out-everywhere`, { method: 'POST', ...forged.init() });
      expect([forged.name, res.status]).toEqual([forged.name, 403]);
      expect([forged.name, (await victim.agent.request(`${server.url}/account`)).status]).toEqual([forged.name, 200]);
    }
    // The page's own form still works.
    await victim.agent.page(`${server.url}/account`);
    expect((await victim.agent.request(`${server.url}/account/sign-out-everywhere`, { method: 'POST', form: {} })).status).toBe(303);
    expect((await victim.agent.request(`${server.url}/account`)).status).toBe(303);
  });

  test('when forged POSTs go to /verify/records, /verify/letter and /verify/abandon, then the verification is neither advanced, nor sent a letter, nor abandoned', async () => {
    const victim = await person();
    await toRecordsStep(victim.agent);
    for (const forged of forgeries('forged-token')) {
      const res = await victim.agent.request(`${server.url}/verify/records`, { method: 'POST', ...forged.init() });
      expect([forged.name, res.status]).toEqual([forged.name, 403]);
    }
    expect(await verificationStep(victim.agent)).toBe('/verify/records');

    await victim.agent.page(`${server.url}/verify/records`);
    expect((await victim.agent.request(`${server.url}/verify/records`, { method: 'POST', form: {} })).status).toBe(303);
    expect(await verificationStep(victim.agent)).toBe('/verify/possession');
    const lettersBefore = letters();
    for (const forged of forgeries('forged-token')) {
      const letter = await victim.agent.request(`${server.url}/verify/letter`, { method: 'POST', ...forged.init() });
      expect([forged.name, letter.status]).toEqual([forged.name, 403]);
      const abandon = await victim.agent.request(`${server.url}/verify/abandon`, { method: 'POST', ...forged.init() });
      expect([forged.name, abandon.status]).toEqual([forged.name, 403]);
    }
    expect(letters()).toBe(lettersBefore);
    expect(await verificationStep(victim.agent)).toBe('/verify/possession');

    // The page's own forms still work.
    await victim.agent.page(`${server.url}/verify/possession`);
    expect((await victim.agent.request(`${server.url}/verify/letter`, { method: 'POST', form: {} })).status).toBe(303);
    expect(letters()).toBe(lettersBefore + 1);
    await victim.agent.page(`${server.url}/verify/code`);
    expect((await victim.agent.request(`${server.url}/verify/abandon`, { method: 'POST', form: {} })).status).toBe(303);
    expect(await verificationStep(victim.agent)).toBe('/verify/consent');
  });

  test('when an upload carries its token after the file, or a wrong one, then it is refused and the step is not done', async () => {
    const victim = await person();
    await toDocumentStep(victim.agent);
    const images = await documentImages();
    const upload = (order: 'before' | 'after', token: string) => {
      const form = new FormData();
      if (order === 'before') form.set('_csrf', token);
      form.set('front', new Blob([new Uint8Array(images.front)], { type: 'image/png' }), 'front.png');
      form.set('back', new Blob([new Uint8Array(images.back)], { type: 'image/png' }), 'back.png');
      if (order === 'after') form.set('_csrf', token);
      return victim.agent.request(`${server.url}/verify/document`, { method: 'POST', body: form });
    };
    expect((await upload('after', victim.agent.csrf)).status).toBe(403);
    expect((await upload('before', 'forged-token')).status).toBe(403);
    expect(await verificationStep(victim.agent)).toBe('/verify/document');
    expect((await upload('before', victim.agent.csrf)).status).toBe(303);
    expect(await verificationStep(victim.agent)).toBe('/verify/ssn');
  });

  test('when a forged upload starts its first file, then 403 comes back before the body is even finished', async () => {
    const victim = await person();
    await toDocumentStep(victim.agent);
    const boundary = 'onedoor-test-boundary';
    const url = new URL(`${server.url}/verify/document`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port: url.port, path: url.pathname, method: 'POST',
        headers: { cookie: victim.agent.cookieHeader(), 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
      }, (res) => { resolve(res.statusCode ?? 0); res.resume(); req.destroy(); });
      req.on('error', reject);
      // The token field, then the start of a file that never ends: OneDoor must answer now.
      req.write(`--${boundary}\r\ncontent-disposition: form-data; name="_csrf"\r\n\r\nforged-token\r\n`);
      req.write(`--${boundary}\r\ncontent-disposition: form-data; name="front"; filename="front.png"\r\ncontent-type: image/png\r\n\r\n`);
      req.write(Buffer.alloc(64 * 1024, 1));
    });
    expect(status).toBe(403);
    expect(await verificationStep(victim.agent)).toBe('/verify/document');
  });
});

describe('the token is bound to the session', () => {
  test("when an attacker plants their own seed cookie and sends the token their own session got, then the victim's browser is refused", async () => {
    const victim = await person();
    const attacker = await person();
    const seed = attacker.agent.cookie('od_csrf')!;
    expect(seed).toBeTruthy();
    // Cookie tossing: the victim's browser now holds the attacker's seed.
    victim.agent.setCookie('od_csrf', seed);
    victim.agent.csrf = attacker.agent.csrf;
    const res = await victim.agent.request(`${server.url}/account/sign-out-everywhere`, { method: 'POST', form: {} });
    expect(res.status).toBe(403);
    expect((await victim.agent.request(`${server.url}/account`)).status).toBe(200);
    expect((await attacker.agent.request(`${server.url}/account`)).status).toBe(200);
  });

  test('when a token was minted before the person signed in, then it does not work in their signed-in session', async () => {
    const agent = new Agent();
    await agent.page(`${server.url}/`);
    const anonymousToken = agent.csrf;
    const p = await person();
    p.agent.setCookie('od_csrf', agent.cookie('od_csrf')!);
    p.agent.csrf = anonymousToken;
    expect((await p.agent.request(`${server.url}/account/sign-out-everywhere`, { method: 'POST', form: {} })).status).toBe(403);
    expect((await p.agent.request(`${server.url}/account`)).status).toBe(200);
  });
});

describe('the seed cookie outside localhost', () => {
  let https: TestServer;
  beforeAll(async () => {
    https = await startTestServer({ env: { ISSUER: 'https://onedoor.example.gov', TRUST_PROXY: 'true' } });
  });
  afterAll(async () => { await https.close(); });

  /** A request as it reaches OneDoor behind its TLS-terminating load balancer. */
  const viaTls = (agent: Agent, path: string, init: RequestInit & { form?: Record<string, string> } = {}) =>
    agent.request(`${https.listenUrl}${path}`, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), 'x-forwarded-proto': 'https' } });

  test('when OneDoor is served over https, then the seed cookie is __Host- prefixed: Secure, Path=/, no Domain', async () => {
    const res = await viaTls(new Agent(), '/');
    const seed = res.headers.getSetCookie().find((c) => c.includes('od_csrf='))!;
    expect(seed).toMatch(/^__Host-od_csrf=[A-Za-z0-9_-]{20,64};/);
    expect(seed).toMatch(/;\s*secure/i);
    expect(seed).toMatch(/;\s*path=\/(;|$)/i);
    expect(seed).toMatch(/;\s*httponly/i);
    expect(seed).toMatch(/;\s*samesite=lax/i);
    expect(seed).not.toMatch(/domain=/i);
  });

  test('when a sibling subdomain plants an unprefixed seed cookie with the token it got for it, then OneDoor ignores that cookie', async () => {
    // The attacker's own visit: a seed (which a sibling subdomain can only plant unprefixed) and its token.
    const attacker = new Agent();
    const page = await viaTls(attacker, '/');
    const token = (await page.text()).match(/<meta name="csrf-token" content="([^"]*)">/)![1]!;
    const seed = attacker.cookie('__Host-od_csrf') ?? attacker.cookie('od_csrf');
    expect(seed).toBeTruthy();
    const victim = new Agent();
    victim.setCookie('od_csrf', seed!);
    victim.csrf = token;
    expect((await viaTls(victim, '/account/sign-out-everywhere', { method: 'POST', form: {} })).status).toBe(403);
    // The same pair under its real name passes the CSRF check (and is then told to sign in).
    attacker.csrf = token;
    expect((await viaTls(attacker, '/account/sign-out-everywhere', { method: 'POST', form: {} })).status).toBe(400);
  });
});
