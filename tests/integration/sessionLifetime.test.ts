import { randomUUID } from 'node:crypto';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Session limits are configuration (SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS); here they are
// set to seconds so that real expiry can be observed.
let server: TestServer;
let agency: TestAgency;
beforeAll(async () => {
  server = await startTestServer({ env: { SESSION_IDLE_SECONDS: '2', SESSION_MAX_SECONDS: '4' } });
  agency = await registerAgency(server, { clientId: 'agency-sessions' });
});
afterAll(async () => { await server.close(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function signedIn() {
  const a = await agency.authorize();
  return signUp({ server, authenticator: new SoftAuthenticator({ origin: server.url, rpId: 'localhost' }), authUrl: a.url, email: `s-${randomUUID().slice(0, 8)}@example.com` });
}

test('when a session is left idle past SESSION_IDLE_SECONDS, then it has ended', async () => {
  const { agent } = await signedIn();
  expect((await agent.request(`${server.url}/account`)).status).toBe(200);
  await sleep(3100);
  expect((await agent.request(`${server.url}/account`)).status).toBe(303);
});

test('when a session is used continuously, then it still ends SESSION_MAX_SECONDS after sign-in', async () => {
  const { agent } = await signedIn();
  const started = Date.now();
  const statuses: number[] = [];
  while (Date.now() - started < 6000) {
    statuses.push((await agent.request(`${server.url}/account`)).status);
    await sleep(900);
  }
  expect(statuses[0]).toBe(200);
  expect(statuses[1]).toBe(200); // kept alive by use beyond the 2 s idle limit
  expect(statuses.at(-1)).toBe(303);
});

test('when an agency asks with prompt=none after the session has ended, then it gets login_required', async () => {
  const { agent } = await signedIn();
  await sleep(3100);
  const { url } = await agency.authorize({ prompt: 'none' });
  const res = await agent.request(url);
  expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('login_required');
});
