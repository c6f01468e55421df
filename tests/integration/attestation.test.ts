import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { AuditEvent, Passkey } from '../../entities/index.js';
import { PasskeyAttestation1764220000000 } from '../../migrations/1764220000000-PasskeyAttestation.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import type { Agent } from '../support/agent.js';
import { finishAtAgency, interactionUid, signIn, signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { createTestCa, type TestCa } from '../support/testCertificates.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { jsonTrustStore, OTHER_AAGUID, TEST_AAGUID, trustStoreDir } from '../support/trustStores.js';

/**
 * AAL3 (acr urn:onedoor:aal:3 / Login.gov …/aal/3, amr hwk) only for a passkey whose
 * attestation chains to a root the operator's trust store lists for its model, a
 * hardware-protected model, with the BE flag clear. Everything else — a synced key, `none`
 * attestation, a root the store does not list, a forged chain, a passkey registered before
 * attestation was checked — signs in at AAL2 and meets an AAL3 request with the "you need a
 * security key" page and `unmet_authentication_requirements` for the agency.
 *
 * Two OneDoor apps run in this process: one with a trust store, one without; neither's store
 * reaches the other.
 */

const AAL3 = 'urn:onedoor:aal:3';
const LOGIN_GOV_AAL3 = 'http://idmanagement.gov/ns/assurance/aal/3';
const files = trustStoreDir();
const root = createTestCa({ name: 'Test Attestation Root' });

let server: TestServer;
let bare: TestServer;
let agency: TestAgency;
let bareAgency: TestAgency;

beforeAll(async () => {
  const store = files.write('trust.json', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: true, attestationRootCertificates: [root.pem] }]));
  server = await startTestServer({ env: { ATTESTATION_TRUST_STORE: store } });
  bare = await startTestServer();
  agency = await registerAgency(server, { clientId: 'secure-agency' });
  bareAgency = await registerAgency(bare, { clientId: 'secure-agency' });
});
afterAll(async () => {
  await server?.close();
  await bare?.close();
  files.cleanup();
});

const email = () => `k-${randomUUID().slice(0, 8)}@example.com`;

function device(srv: TestServer, opts: { ca?: TestCa; aaguid?: string; backupEligible?: boolean; appendCertificates?: Buffer[] } = {}): SoftAuthenticator {
  return new SoftAuthenticator({
    origin: srv.url, rpId: 'localhost', backupEligible: opts.backupEligible ?? false,
    ...(opts.ca ? { attestation: { ca: opts.ca, aaguid: opts.aaguid ?? TEST_AAGUID, appendCertificates: opts.appendCertificates } } : {}),
  });
}

/** Signs up at the agency (no acr_values) and returns the session and the tokens it got. */
async function signedUp(srv: TestServer, a: TestAgency, key: SoftAuthenticator) {
  const auth = await a.authorize();
  const { agent, landing } = await signUp({ server: srv, authenticator: key, authUrl: auth.url, email: email() });
  const tokens = await a.redeem(landing, auth);
  const info = await oidc.fetchUserInfo(a.config, tokens.access_token, tokens.claims()!.sub);
  return { agent, tokens, info };
}

/** An AAL3 request stops at "You need a security key"; "Return to" gives the agency unmet_authentication_requirements. */
async function expectAal3Unavailable(srv: TestServer, a: TestAgency, agent: Agent) {
  const auth = await a.authorize({ acr_values: LOGIN_GOV_AAL3 });
  const { url: at } = await agent.follow(auth.url, srv.url);
  const page = await agent.page(at);
  expect(page.html).toContain('You need a security key for this agency');
  // With a hardware-protected model in the store the person is told what to do; without, that no key can help yet.
  if (srv === bare) {
    expect(page.html).toContain('This OneDoor service does not confirm any security key yet');
    expect(page.html).not.toContain('usa-process-list');
  } else {
    expect(page.html).toContain('None of the passkeys on your account meets it');
    expect(page.html).toContain('Get a security key (a small USB or NFC device) from a well-known maker.');
  }
  const res = await agent.request(`${srv.url}/interaction/${interactionUid(at)}/unmet`, { method: 'POST', form: {} });
  const { url } = await agent.follow(new URL(res.headers.get('location')!, srv.url).toString(), srv.url);
  expect(new URL(url).searchParams.get('error')).toBe('unmet_authentication_requirements');
  expect(new URL(url).searchParams.get('code')).toBeNull();
}

/** Expects the sign-in to have counted AAL2: amr swk, userinfo aal/2. */
function expectAal2(signedIn: Awaited<ReturnType<typeof signedUp>>) {
  expect(signedIn.tokens.claims()!.amr).toEqual(['pop', 'swk', 'user']);
  expect(signedIn.info.aal).toBe('http://idmanagement.gov/ns/assurance/aal/2');
}

/** Which passkeys the account page marks "Highest security level": name → marked or not. */
async function aal3Marks(srv: TestServer, agent: Agent): Promise<Record<string, boolean>> {
  const { html } = await agent.page(`${srv.url}/account`);
  expect(html).toContain('Only the passkeys marked “Highest security level” meet it.');
  const table = html.slice(html.indexOf('data-testid="passkeys"'), html.indexOf('</table>'));
  const rows = table.split('<tr>').slice(2);
  return Object.fromEntries(rows.map((row) => [row.match(/name="name" type="text" maxlength="64" value="([^"]*)"/)![1]!, /data-testid="passkey-aal3">Highest security level</.test(row)]));
}

describe('a passkey that meets AAL3', () => {
  test('when a person signs up with a device-bound security key whose attestation chains to a root the trust store lists, then AAL3 requests need no step-up: acr urn:onedoor:aal:3 and Login.gov aal/3, amr hwk', async () => {
    const key = device(server, { ca: root });
    const auth = await agency.authorize({ acr_values: AAL3 });
    const { agent, landing } = await signUp({ server, authenticator: key, authUrl: auth.url, email: email() });
    const tokens = await agency.redeem(landing, auth);
    expect(tokens.claims()!.acr).toBe(AAL3);
    expect(tokens.claims()!.amr).toEqual(['pop', 'hwk', 'user']);

    const again = await agency.authorize({ acr_values: LOGIN_GOV_AAL3 });
    const second = await agency.redeem(await finishAtAgency(agent, server, again.url), again);
    expect(second.claims()!.acr).toBe(LOGIN_GOV_AAL3);
    const info = await oidc.fetchUserInfo(agency.config, second.access_token, second.claims()!.sub);
    expect(info.aal).toBe(LOGIN_GOV_AAL3);
    expect(await aal3Marks(server, agent)).toEqual({ 'Test key': true });
  });

  test('when a passkey is added, then what its attestation showed is recorded with the event, and nothing about the device beyond it', async () => {
    const key = device(server, { ca: root });
    await signedUp(server, agency, key);
    const { accountId } = await server.ds.getRepository(Passkey).findOneByOrFail({ id: key.credentials[0]!.id });
    const added = await server.ds.getRepository(AuditEvent).findOneByOrFail({ accountId, type: 'passkey_added' });
    expect(JSON.parse(added.details)).toEqual({ name: 'Test key', attestation: 'trusted' });
  });

  test('when an account has a security key and an unattested device-bound passkey, then the AAL3 step-up offers only the key, refuses the other, and the key gets acr aal/3', async () => {
    const plain = device(server);
    const { agent } = await signedUp(server, agency, plain);
    const key = device(server, { ca: root });
    await agent.page(`${server.url}/account/passkeys/new`);
    const opt = await agent.request(`${server.url}/account/passkeys/options`, { method: 'POST', json: {} });
    const options = await opt.json();
    expect(options.attestation).toBe('direct');
    const added = await agent.request(`${server.url}/account/passkeys`, { method: 'POST', form: { response: JSON.stringify(key.createCredential({ options })), name: 'Security key' } });
    expect(added.status).toBe(303);
    expect(await aal3Marks(server, agent)).toEqual({ 'Test key': false, 'Security key': true });

    const auth = await agency.authorize({ acr_values: LOGIN_GOV_AAL3 });
    const { url: at } = await agent.follow(auth.url, server.url);
    expect((await agent.page(at)).html).toContain('Confirm with a passkey');
    const base = `${server.url}/interaction/${interactionUid(at)}`;
    let stepUp = await (await agent.request(`${base}/stepup/options`, { method: 'POST', json: {} })).json();
    expect(stepUp.allowCredentials.map((c: { id: string }) => c.id)).toEqual([key.credentials[0]!.id]);
    const refused = await agent.request(`${base}/stepup`, { method: 'POST', form: { response: JSON.stringify(plain.getAssertion({ options: stepUp, credentialId: plain.credentials[0]!.id })) } });
    expect(refused.status).toBe(400);
    stepUp = await (await agent.request(`${base}/stepup/options`, { method: 'POST', json: {} })).json();
    const done = await agent.request(`${base}/stepup`, { method: 'POST', form: { response: JSON.stringify(key.getAssertion({ options: stepUp })) } });
    expect(done.status).toBe(303);
    const tokens = await agency.redeem(await finishAtAgency(agent, server, new URL(done.headers.get('location')!, server.url).toString()), auth);
    expect(tokens.claims()!.acr).toBe(LOGIN_GOV_AAL3);
    expect(tokens.claims()!.amr).toContain('hwk');
  });
});

describe('passkeys that count AAL2 at most', () => {
  test('when the same security key model signs up at a OneDoor whose trust store does not list its root, then it is AAL2 and an AAL3 request gets the unavailable page and unmet_authentication_requirements', async () => {
    const signedIn = await signedUp(bare, bareAgency, device(bare, { ca: root }));
    expectAal2(signedIn);
    await expectAal3Unavailable(bare, bareAgency, signedIn.agent);
    expect(await aal3Marks(bare, signedIn.agent)).toEqual({ 'Test key': false });
    expect((await bare.ds.getRepository(Passkey).findOneByOrFail({ aaguid: TEST_AAGUID })).attestation).toBe('untrusted');
  });

  test('when the key attests through a root the store does not list, then it is AAL2 and AAL3 is unavailable', async () => {
    const signedIn = await signedUp(server, agency, device(server, { ca: createTestCa({ name: 'Unlisted Root' }) }));
    expectAal2(signedIn);
    await expectAal3Unavailable(server, agency, signedIn.agent);
  });

  test('when the key sets the BE flag (synced) though its root is trusted, then it is AAL2 and AAL3 is unavailable', async () => {
    const signedIn = await signedUp(server, agency, device(server, { ca: root, backupEligible: true }));
    expectAal2(signedIn);
    await expectAal3Unavailable(server, agency, signedIn.agent);
  });

  test('when the browser gives none attestation for a device-bound passkey, then it registers, counts AAL2, and AAL3 is unavailable', async () => {
    const signedIn = await signedUp(server, agency, device(server));
    expectAal2(signedIn);
    await expectAal3Unavailable(server, agency, signedIn.agent);
    expect(await aal3Marks(server, signedIn.agent)).toEqual({ 'Test key': false });
  });

  test('when the leaf is signed by another CA with the trusted root\'s name, even with the trusted root appended, then it is AAL2', async () => {
    const impostor = createTestCa({ name: 'Test Attestation Root' });
    for (const key of [device(server, { ca: impostor }), device(server, { ca: impostor, appendCertificates: [root.cert] })]) {
      const signedIn = await signedUp(server, agency, key);
      expectAal2(signedIn);
      await expectAal3Unavailable(server, agency, signedIn.agent);
    }
  });

  test('when the trusted root attests an AAGUID the store lists it under no entry for, then it is AAL2', async () => {
    const signedIn = await signedUp(server, agency, device(server, { ca: root, aaguid: OTHER_AAGUID }));
    expectAal2(signedIn);
    await expectAal3Unavailable(server, agency, signedIn.agent);
  });

  test('when a passkey was registered before attestation was checked (the migration\'s default), then it is AAL2: the session it signed in stops counting AAL3, and a new sign-in with it is AAL2', async () => {
    const key = device(server, { ca: root });
    const auth = await agency.authorize({ acr_values: AAL3 });
    const { agent, landing } = await signUp({ server, authenticator: key, authUrl: auth.url, email: email() });
    expect((await agency.redeem(landing, auth)).claims()!.acr).toBe(AAL3);
    // The passkeys table as it was before the migration, then migrated: every row is unknown.
    const migration = new PasskeyAttestation1764220000000();
    const runner = server.ds.createQueryRunner();
    try {
      await migration.down(runner);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    expect(await server.ds.getRepository(Passkey).findOneByOrFail({ id: key.credentials[0]!.id })).toMatchObject({ attestation: 'unknown', attestationRoot: null });
    await expectAal3Unavailable(server, agency, agent);
    const fresh = await agency.authorize({ prompt: 'login' });
    const { landing: again } = await signIn({ server, authenticator: key, authUrl: fresh.url, agent });
    expect((await agency.redeem(again, fresh)).claims()!.amr).toEqual(['pop', 'swk', 'user']);
  });
});
