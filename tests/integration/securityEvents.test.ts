import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Account, SecurityEventDelivery } from '../../entities/index.js';
import { disableAccount } from '../../src/accounts/disableAccount.js';
import { deliverSecurityEvents } from '../../src/oidc/deliverSecurityEvents.js';
import { clock } from '../../src/shared/clock.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import type { Agent } from '../support/agent.js';
import { signIn, signUp } from '../support/flows.js';
import { startHttpReceiver, type HttpReceiver } from '../support/httpReceiver.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

let server: TestServer;
let receiver: HttpReceiver;
let optedIn: TestAgency;
let notOptedIn: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  receiver = await startHttpReceiver({ '/events': 202 });
  optedIn = await registerAgency(server, { clientId: 'agency-e', extra: { security_event_endpoint: `${receiver.url}/events` } });
  notOptedIn = await registerAgency(server, { clientId: 'agency-f' });
});
afterAll(async () => {
  await receiver.close();
  await server.close();
});
afterEach(() => clock.reset());

const newAuthenticator = () => new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
const deliver = () => deliverSecurityEvents({ ds: server.ds, provider: server.provider, keys: server.keys, config: server.config });
const setsReceived = () => receiver.received.filter((r) => r.path === '/events');

/** Someone who signed up at the opted-in agency (whose subject there it learned) and connected to the other too. */
async function connectedPerson() {
  const authenticator = newAuthenticator();
  const email = `set-${randomUUID().slice(0, 8)}@example.com`;
  const auth = await optedIn.authorize();
  const { agent, landing } = await signUp({ server, authenticator, authUrl: auth.url, email });
  const tokens = await optedIn.redeem(landing, auth);
  await signIn({ server, authenticator, agent, authUrl: (await notOptedIn.authorize()).url });
  const account = await server.ds.getRepository(Account).findOneByOrFail({ email });
  return { agent, authenticator, email, account, sub: tokens.claims()!.sub };
}

async function addPasskey(agent: Agent) {
  await agent.page(`${server.url}/account/passkeys/new`);
  const options = await agent.request(`${server.url}/account/passkeys/options`, { method: 'POST', json: {} });
  const credential = newAuthenticator().createCredential({ options: await options.json() });
  const res = await agent.request(`${server.url}/account/passkeys`, { method: 'POST', form: { response: JSON.stringify(credential), name: 'Laptop' } });
  expect(res.status).toBe(303);
}

async function verifySet(token: string) {
  return jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/jwks`)), { issuer: server.url, audience: 'agency-e', typ: 'secevent+jwt' });
}

describe('security event tokens', () => {
  test('when a person adds a passkey, then only the opted-in agency receives a signed credential-change SET for its pairwise subject, retried after a 500', async () => {
    const p = await connectedPerson();
    const before = setsReceived().length;
    receiver.respondNext('/events', 500);
    await addPasskey(p.agent);

    const queued = await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: p.account.id });
    expect(queued.map((d) => d.clientId)).toEqual(['agency-e']);

    expect(await deliver()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    const afterFirst = await server.ds.getRepository(SecurityEventDelivery).findOneByOrFail({ id: queued[0]!.id });
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, lastError: 'http 500', deliveredAt: null });
    expect(afterFirst.nextAttemptAt.getTime()).toBeGreaterThan(clock.nowMs());
    // Not due yet: nothing is sent.
    expect(await deliver()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    expect(setsReceived().length - before).toBe(1);

    clock.advance(31_000);
    expect(await deliver()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    const attempts = setsReceived().slice(before);
    expect(attempts).toHaveLength(2);
    // A retry sends the same event (same claims, same jti); only the ECDSA signature differs.
    expect(attempts[1]!.body.split('.')[1]).toBe(attempts[0]!.body.split('.')[1]);
    expect(attempts[1]!.contentType).toBe('application/secevent+jwt');

    const { payload, protectedHeader } = await verifySet(attempts[1]!.body);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'secevent+jwt' });
    expect(decodeProtectedHeader(attempts[1]!.body).kid).toBe(server.keys.jwks.keys.find((k) => k.alg === 'ES256')!.kid);
    expect(payload).toEqual({
      iss: server.url, aud: 'agency-e', jti: queued[0]!.id, iat: Math.floor(queued[0]!.eventAt.getTime() / 1000),
      sub_id: { format: 'iss_sub', iss: server.url, sub: p.sub },
      events: {
        'https://schemas.openid.net/secevent/caep/event-type/credential-change': {
          change_type: 'create', credential_type: expect.stringMatching(/^fido2-(platform|roaming)$/), event_timestamp: payload.iat,
        },
      },
    });
    expect(attempts[1]!.body).not.toContain(p.account.id);
    expect(await server.ds.getRepository(SecurityEventDelivery).findOneByOrFail({ id: queued[0]!.id })).toMatchObject({ status: 'delivered', attempts: 2, lastError: null });
  });

  test('when an agency rejects a SET with 400, then the delivery is given up and stays visible as failed with the reason', async () => {
    const p = await connectedPerson();
    const result = await server.ds.transaction((db) => disableAccount({ db, accountId: p.account.id }));
    expect(result).toEqual({ ok: true, notified: ['agency-e'] });
    receiver.respondNext('/events', 400, { err: 'invalid_audience', description: 'not for us' });

    expect(await deliver()).toEqual({ delivered: 0, retrying: 0, failed: 1 });
    const [row] = await server.ds.getRepository(SecurityEventDelivery).findBy({ accountId: p.account.id });
    expect(row).toMatchObject({ status: 'failed', attempts: 1, lastError: 'http 400 invalid_audience', eventType: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled' });
    const { payload } = await verifySet(setsReceived().at(-1)!.body);
    expect(payload.sub_id).toEqual({ format: 'iss_sub', iss: server.url, sub: p.sub });

    clock.advance(7 * 86400_000);
    expect(await deliver()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
  });
});
