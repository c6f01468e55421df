import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { Agent } from '../support/agent.js';
import { finishAtAgency, interactionUid, signIn, signUp } from '../support/flows.js';
import { documentImages, latestOutbox, postDocument, postSelfie, verifyIdentity } from '../support/proofingFlow.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { createTestCa } from '../support/testCertificates.js';
import { jsonTrustStore, TEST_AAGUID, trustStoreDir } from '../support/trustStores.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { SANDBOX_PEOPLE } from '../support/aamva.js';
import { clock } from '../../src/shared/clock.js';
import { ProofingSession } from '../../entities/index.js';

let server: TestServer;
let ial2: TestAgency;
let ial1: TestAgency;
// Security keys of a test model whose attestation root is in the trust store (see attestation.test.ts).
const attestationRoot = createTestCa({ name: 'Test Attestation Root' });
const trustFiles = trustStoreDir();

beforeAll(async () => {
  const store = trustFiles.write('trust.json', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: true, attestationRootCertificates: [attestationRoot.pem] }]));
  server = await startTestServer({ env: { ATTESTATION_TRUST_STORE: store } });
  ial2 = await registerAgency(server, { clientId: 'benefits', extra: { max_ial: 2 } });
  ial1 = await registerAgency(server, { clientId: 'library', extra: { max_ial: 1 } });
});
afterAll(async () => { await server.close(); trustFiles.cleanup(); });
afterEach(() => clock.reset());

const IDENTITY_SCOPE = 'openid email profile address phone social_security_number';
const newAuthenticator = (backupEligible = true) => new SoftAuthenticator({ origin: server.url, rpId: 'localhost', backupEligible });
/** A device-bound security key whose attestation chains to the trusted root: it meets AAL3. */
const securityKey = () => new SoftAuthenticator({ origin: server.url, rpId: 'localhost', attestation: { ca: attestationRoot, aaguid: TEST_AAGUID } });

/** A person with an account (IAL1), signed in, and the agent holding their session. */
async function ial1Person(backupEligible = true) {
  const authenticator = newAuthenticator(backupEligible);
  const a = await ial1.authorize();
  const { agent, landing } = await signUp({ server, authenticator, authUrl: a.url, email: `p-${randomUUID().slice(0, 8)}@example.com` });
  await ial1.redeem(landing, a);
  return { authenticator, agent };
}

/** Follows an authorization with an existing session to the step-up page it stops at. */
async function stepUpPage(agent: Agent, url: string) {
  const { url: at } = await agent.follow(url, server.url);
  const page = await agent.page(at);
  return { at, page };
}

describe('identity verification inside an authorization (step-up to IAL2)', () => {
  test('when an IAL1 person signs in at an agency asking for IAL2, then they verify in the same authorization and the agency gets acr verified, ial 2 and verified claims', async () => {
    const p = await ial1Person();
    const auth = await ial2.authorize({ acr_values: 'urn:acr.login.gov:verified', scope: IDENTITY_SCOPE });
    const { at, page } = await stepUpPage(p.agent, auth.url);
    expect(page.html).toContain('Verify your identity');
    const uid = interactionUid(at);
    const { personalKey, continueUrl } = await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator, returnUid: uid, phone: '(202) 555-0142' });
    expect(personalKey).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    expect(continueUrl).toBe(`/interaction/${uid}/continue`);
    const landing = await finishAtAgency(p.agent, server, `${server.url}${continueUrl}`);
    const tokens = await ial2.redeem(landing, auth);
    expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified');
    const info = await oidc.fetchUserInfo(ial2.config, tokens.access_token, tokens.claims()!.sub);
    expect(info).toMatchObject({
      given_name: 'JANE', family_name: 'SAMPLE', birthdate: '1985-04-12', social_security_number: '123456789',
      phone: '+12025550142', phone_verified: true, ial: 'http://idmanagement.gov/ns/assurance/ial/2',
    });
    expect(info.address).toMatchObject({ locality: 'RICHMOND', region: 'VA', postal_code: '23219' });
    expect(typeof info.verified_at).toBe('number');
  });

  test('when a verified person signs in at an agency asking only IAL1, then the acr is IAL1 and no identity data is released', async () => {
    const p = await ial1Person();
    await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator });
    const auth = await ial2.authorize({ acr_values: 'urn:acr.login.gov:auth-only', scope: IDENTITY_SCOPE });
    const landing = await finishAtAgency(p.agent, server, auth.url);
    const tokens = await ial2.redeem(landing, auth);
    expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:auth-only');
    const info = await oidc.fetchUserInfo(ial2.config, tokens.access_token, tokens.claims()!.sub);
    expect(info.ial).toBe('http://idmanagement.gov/ns/assurance/ial/1');
    expect(info.given_name).toBeUndefined();
    expect(info.social_security_number).toBeUndefined();
  });

  test('when several acr values come in any order, then the strongest one met is reported', async () => {
    const p = await ial1Person();
    await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator });
    for (const values of ['http://idmanagement.gov/ns/assurance/ial/2 urn:acr.login.gov:auth-only', 'urn:onedoor:ial:1 unknown:value urn:onedoor:ial:2']) {
      const auth = await ial2.authorize({ acr_values: values });
      const tokens = await ial2.redeem(await finishAtAgency(p.agent, server, auth.url), auth);
      expect(tokens.claims()!.acr).toBe(values.includes('ial/2') ? 'http://idmanagement.gov/ns/assurance/ial/2' : 'urn:onedoor:ial:2');
    }
  });

  test('when the agency asks for verified_claims with the claims parameter, then userinfo carries them per OpenID Connect for Identity Assurance', async () => {
    const p = await ial1Person();
    await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator });
    const claims = { userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { given_name: null, birthdate: null } } } };
    const auth = await ial2.authorize({ acr_values: 'urn:onedoor:ial:2', claims: JSON.stringify(claims) });
    const tokens = await ial2.redeem(await finishAtAgency(p.agent, server, auth.url), auth);
    const info = await oidc.fetchUserInfo(ial2.config, tokens.access_token, tokens.claims()!.sub);
    const vc = info.verified_claims as { verification: Record<string, unknown>; claims: Record<string, unknown> };
    expect(vc.verification).toMatchObject({ trust_framework: 'nist_800_63A', assurance_level: 'ial2' });
    expect((vc.verification['evidence'] as Array<Record<string, unknown>>)[0]).toMatchObject({ type: 'document', document_details: { type: 'driving_permit', document_number: 'S12345678', issuer: { jurisdiction: 'VA' } } });
    expect(vc.claims).toEqual({ given_name: 'JANE', birthdate: '1985-04-12' });
  });

  test('when the last verification is older than verified_within, then the person must verify again', async () => {
    const p = await ial1Person();
    await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator });
    clock.advance(31 * 86400 * 1000);
    const fresh = await ial2.authorize({ acr_values: 'urn:acr.login.gov:verified', verified_within: '30d', prompt: 'none' });
    const res = await p.agent.request(fresh.url);
    // With prompt=none nothing can be asked: the agency hears that interaction is required.
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('interaction_required');
    const again = await ial2.authorize({ acr_values: 'urn:acr.login.gov:verified', verified_within: '30d' });
    const { page } = await stepUpPage(p.agent, again.url);
    expect(page.html).toContain('Verify your identity');
    const ok = await ial2.authorize({ acr_values: 'urn:acr.login.gov:verified', verified_within: '60d' });
    const tokens = await ial2.redeem(await finishAtAgency(p.agent, server, ok.url), ok);
    expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified');
  });

  test('when verified_within is not a number of days, then the request is refused', async () => {
    const auth = await ial2.authorize({ verified_within: 'soon' });
    const res = await fetch(auth.url, { redirect: 'manual' });
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });
});

describe('authenticator assurance', () => {
  test('when an agency asks for AAL3 and every passkey is synced, then the person sees what to do and the agency gets unmet_authentication_requirements', async () => {
    const p = await ial1Person(true);
    const auth = await ial2.authorize({ acr_values: 'http://idmanagement.gov/ns/assurance/aal/3' });
    const { at, page } = await stepUpPage(p.agent, auth.url);
    expect(page.html).toContain('You need a security key for this agency');
    const res = await p.agent.request(`${server.url}/interaction/${interactionUid(at)}/unmet`, { method: 'POST', form: {} });
    const { url } = await p.agent.follow(new URL(res.headers.get('location')!, server.url).toString(), server.url);
    expect(new URL(url).searchParams.get('error')).toBe('unmet_authentication_requirements');
  });

  test('when an AAL2 session is asked for AAL3, then the person re-authenticates with an attested security key and acr says AAL3', async () => {
    const p = await ial1Person(true);
    // Add a security key on the account page.
    const key = securityKey();
    await p.agent.page(`${server.url}/account/passkeys/new`);
    const opt = await p.agent.request(`${server.url}/account/passkeys/options`, { method: 'POST', json: {} });
    await p.agent.request(`${server.url}/account/passkeys`, { method: 'POST', form: { response: JSON.stringify(key.createCredential({ options: await opt.json() })), name: 'Security key' } });
    const auth = await ial2.authorize({ acr_values: 'http://idmanagement.gov/ns/assurance/aal/3' });
    const { at, page } = await stepUpPage(p.agent, auth.url);
    expect(page.html).toContain('Confirm with a passkey');
    const base = `${server.url}/interaction/${interactionUid(at)}`;
    // The synced passkey is not enough.
    let options = await (await p.agent.request(`${base}/stepup/options`, { method: 'POST', json: {} })).json();
    expect(options.allowCredentials).toHaveLength(1);
    const synced = await p.agent.request(`${base}/stepup`, { method: 'POST', form: { response: JSON.stringify(p.authenticator.getAssertion({ options, credentialId: p.authenticator.credentials[0]!.id })) } });
    expect(synced.status).toBe(400);
    options = await (await p.agent.request(`${base}/stepup/options`, { method: 'POST', json: {} })).json();
    const done = await p.agent.request(`${base}/stepup`, { method: 'POST', form: { response: JSON.stringify(key.getAssertion({ options })) } });
    expect(done.status).toBe(303);
    const landing = await finishAtAgency(p.agent, server, new URL(done.headers.get('location')!, server.url).toString());
    const tokens = await ial2.redeem(landing, auth);
    expect(tokens.claims()!.acr).toBe('http://idmanagement.gov/ns/assurance/aal/3');
    expect(tokens.claims()!.amr).toContain('hwk');
    const info = await oidc.fetchUserInfo(ial2.config, tokens.access_token, tokens.claims()!.sub);
    expect(info.aal).toBe('http://idmanagement.gov/ns/assurance/aal/3');
  });

  test('when a person signs in with an attested security key, then a request for AAL3 needs no step-up', async () => {
    const authenticator = securityKey();
    const a = await ial2.authorize({ acr_values: 'urn:onedoor:aal:3' });
    const { landing } = await signUp({ server, authenticator, authUrl: a.url, email: `k-${randomUUID().slice(0, 8)}@example.com` });
    expect((await ial2.redeem(landing, a)).claims()!.acr).toBe('urn:onedoor:aal:3');
  });
});

describe('what a client may ask for', () => {
  test('when a max_ial 1 client asks for identity scopes, then it gets invalid_scope', async () => {
    const auth = await ial1.authorize({ scope: 'openid social_security_number' });
    const res = await fetch(auth.url, { redirect: 'manual' });
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
  });

  test('when a max_ial 1 client asks for IAL2 in acr_values, then it gets invalid_request', async () => {
    const p = await ial1Person();
    const auth = await ial1.authorize({ acr_values: 'urn:acr.login.gov:verified' });
    const res = await p.agent.request(auth.url);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });
});

describe('proofing steps and failures', () => {
  async function atDocumentStep() {
    const p = await ial1Person();
    await p.agent.request(`${server.url}/verify`);
    await p.agent.page(`${server.url}/verify/consent`);
    await p.agent.request(`${server.url}/verify/consent`, { method: 'POST', form: { agree: 'yes' } });
    await p.agent.page(`${server.url}/verify/document`);
    return p;
  }

  test('when the ID has expired, then the page says so and the person can retry with another', async () => {
    const p = await atDocumentStep();
    const expired = await postDocument(p.agent, server, await documentImages({ expirationDate: '2020-01-31', issueDate: '2012-01-31' }));
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('Your ID has expired');
    const ok = await postDocument(p.agent, server, await documentImages());
    expect(ok.status).toBe(303);
  });

  test('when the document vendor times out, then nothing is saved and a retry works', async () => {
    const p = await atDocumentStep();
    const before = await server.ds.getRepository(ProofingSession).findOneByOrFail({ accountId: (await accountOf(p.agent)) });
    const res = await postDocument(p.agent, server, await documentImages({ documentNumber: 'S1234TIMEOUT' }));
    expect(res.status).toBe(503);
    const after = await server.ds.getRepository(ProofingSession).findOneByOrFail({ id: before.id });
    expect(after.draft).toBe(before.draft);
    expect(after.stepsDone).toBe(before.stepsDone);
    expect((await postDocument(p.agent, server, await documentImages())).status).toBe(303);
  });

  test('when the records check fails or the person is reported deceased, then the page only says the check failed', async () => {
    for (const ssn of ['123-45-9999', '123-45-8888']) {
      const p = await atDocumentStep();
      await postDocument(p.agent, server, await documentImages());
      await p.agent.page(`${server.url}/verify/ssn`);
      await p.agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn, dob_month: '04', dob_day: '12', dob_year: '1985' } });
      await p.agent.page(`${server.url}/verify/records`);
      const res = await p.agent.request(`${server.url}/verify/records`, { method: 'POST', form: {} });
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).toContain('We could not verify your identity with official records');
      expect(html).not.toMatch(/deceased|no_match|date of death/i);
    }
  });

  test('when an invalid SSN or a date of birth that differs from the ID is entered, then the form says which field', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages());
    await p.agent.page(`${server.url}/verify/ssn`);
    const bad = await p.agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn: '666-12-3456', dob_month: '04', dob_day: '12', dob_year: '1985' } });
    expect(await bad.text()).toContain('not a valid Social Security number');
    const dob = await p.agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn: '123-45-6789', dob_month: '04', dob_day: '13', dob_year: '1985' } });
    expect(await dob.text()).toContain('does not match your ID');
    // Feb 30 is no day at all: the form asks for a real date, it does not claim a mismatch.
    const feb30 = await p.agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn: '123-45-6789', dob_month: '02', dob_day: '30', dob_year: '1985' } });
    const feb30Html = await feb30.text();
    expect(feb30.status).toBe(400);
    expect(feb30Html).toContain('Enter your date of birth as month, day and year');
    expect(feb30Html).not.toContain('does not match your ID');
  });

  test('when the SSN and date of birth are typed with full-width digits (IME keyboard), then they are accepted', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages());
    await p.agent.page(`${server.url}/verify/ssn`);
    const res = await p.agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn: '１２３－４５－６７８９', dob_month: '０４', dob_day: '１２', dob_year: '１９８５' } });
    expect(res.status).toBe(303);
  });

  test('when a wrong phone code is entered, then it is refused; five wrong codes end it; a letter code works for 21 days', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages());
    await p.agent.page(`${server.url}/verify/ssn`);
    await p.agent.request(`${server.url}/verify/ssn`, { method: 'POST', form: { ssn: '123-45-6789', dob_month: '04', dob_day: '12', dob_year: '1985' } });
    await p.agent.page(`${server.url}/verify/records`);
    await p.agent.request(`${server.url}/verify/records`, { method: 'POST', form: {} });
    await p.agent.page(`${server.url}/verify/possession`);
    await p.agent.request(`${server.url}/verify/phone`, { method: 'POST', form: { phone: '202-555-0142' } });
    const code = latestOutbox(server.outboxDir, '-sms.txt').match(/\b(\d{6})\b/)![1]!;
    const wrong = code === '000000' ? '111111' : '000000';
    await p.agent.page(`${server.url}/verify/code`);
    const first = await p.agent.request(`${server.url}/verify/code`, { method: 'POST', form: { code: wrong } });
    expect(await first.text()).toContain('That code is not right');
    for (let i = 0; i < 4; i += 1) await p.agent.request(`${server.url}/verify/code`, { method: 'POST', form: { code: wrong } });
    const locked = await p.agent.request(`${server.url}/verify/code`, { method: 'POST', form: { code } });
    expect(await locked.text()).toContain('Too many wrong codes');
    // By letter instead: the code still works 20 days later.
    await p.agent.page(`${server.url}/verify/possession`);
    expect((await p.agent.request(`${server.url}/verify/letter`, { method: 'POST', form: {} })).status).toBe(303);
    const letter = latestOutbox(server.outboxDir, '-letter.txt');
    expect(letter).toContain('123 MAIN ST');
    const letterCode = letter.match(/\b(\d{8})\b/)![1]!;
    clock.advance(20 * 86400 * 1000);
    await p.agent.page(`${server.url}/verify/code`);
    expect((await p.agent.request(`${server.url}/verify/code`, { method: 'POST', form: { code: letterCode } })).status).toBe(303);
    expect((await p.agent.request(`${server.url}/verify`)).headers.get('location')).toBe('/verify/reauth');
  });

  test('when a step is skipped by URL, then the flow sends the person to the step they are at', async () => {
    const p = await atDocumentStep();
    const res = await p.agent.request(`${server.url}/verify/records`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/verify');
  });

  test('when proofing is resumed on another device after sign-in, then it continues where it stopped', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages());
    const other = new Agent();
    const a = await ial1.authorize({ prompt: 'login' });
    await signIn({ server, authenticator: p.authenticator, authUrl: a.url, agent: other });
    const res = await other.request(`${server.url}/verify`);
    expect(res.headers.get('location')).toBe('/verify/ssn');
  });

  test('when the person abandons, then what they entered is deleted and they can start again', async () => {
    const p = await atDocumentStep();
    await postDocument(p.agent, server, await documentImages());
    const accountId = await accountOf(p.agent);
    await p.agent.request(`${server.url}/verify/abandon`, { method: 'POST', form: {} });
    expect(await server.ds.getRepository(ProofingSession).countBy({ accountId })).toBe(0);
    expect((await p.agent.request(`${server.url}/verify`)).headers.get('location')).toBe('/verify/consent');
  });
});

describe('personal data at rest', () => {
  test('when a person has verified, then no table holds their SSN, date of birth, address or document number in clear', async () => {
    const p = await ial1Person();
    await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator, person: SANDBOX_PEOPLE[1]!, ssn: '219-09-9990' });
    const needles = ['219099990', '219-09-9990', SANDBOX_PEOPLE[1]!.dateOfBirth, SANDBOX_PEOPLE[1]!.address.street1, SANDBOX_PEOPLE[1]!.documentNumber, SANDBOX_PEOPLE[1]!.dateOfBirth.replace(/-/g, '')];
    const tables = ['accounts', 'passkeys', 'recovery_codes', 'email_confirmations', 'webauthn_challenges', 'audit_events', 'oidc_payloads', 'oidc_clients', 'proofing_sessions', 'proofing_images', 'verified_profiles'];
    for (const table of tables) {
      const rows: Array<Record<string, unknown>> = await server.ds.query(`SELECT * FROM ${table}`);
      const dump = JSON.stringify(rows);
      for (const n of needles) expect({ table, found: dump.includes(n) }).toEqual({ table, found: false });
    }
  });

  test('when the person deletes their verified profile, then agencies asking IAL2 send them through verification again', async () => {
    const p = await ial1Person();
    await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator });
    await p.agent.page(`${server.url}/account`);
    expect((await p.agent.request(`${server.url}/account/identity/delete`, { method: 'POST', form: { confirm: 'yes' } })).status).toBe(303);
    const auth = await ial2.authorize({ acr_values: 'urn:acr.login.gov:verified' });
    const { page } = await stepUpPage(p.agent, auth.url);
    expect(page.html).toContain('Verify your identity');
  });
});

async function accountOf(agent: Agent): Promise<string> {
  const res = await agent.request(`${server.url}/account/passkeys/options`, { method: 'POST', json: {} });
  const options = await res.json();
  return Buffer.from(options.user.id, 'base64url').toString('utf8');
}

describe('facial match and the personal key', () => {
  test('when an agency requires a facial match, then the flow adds the step, a non-matching selfie is refused and the acr says facial match', async () => {
    const p = await ial1Person();
    const auth = await ial2.authorize({ acr_values: 'urn:acr.login.gov:verified-facial-match-required' });
    const { at } = await stepUpPage(p.agent, auth.url);
    const uid = interactionUid(at);
    await p.agent.request(`${server.url}/verify?return=${uid}`);
    await p.agent.page(`${server.url}/verify/consent`);
    await p.agent.request(`${server.url}/verify/consent`, { method: 'POST', form: { agree: 'yes' } });
    await p.agent.page(`${server.url}/verify/document`);
    await postDocument(p.agent, server, await documentImages());
    expect((await p.agent.request(`${server.url}/verify`)).headers.get('location')).toBe('/verify/facial-match');
    const { documentFrontImage } = await import('../support/aamva.js');
    const send = (selfie: Buffer) => postSelfie(p.agent, server, selfie);
    const refused = await send(Buffer.concat([documentFrontImage(), Buffer.from('NOMATCH')]));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('did not match the photo on your ID');
    expect((await send(documentFrontImage())).status).toBe(303);
    // The rest of the flow (the helper goes through every step again, selfie included).
    const { continueUrl } = await verifyIdentity({ server, agent: p.agent, authenticator: p.authenticator, returnUid: uid, selfie: documentFrontImage() });
    const tokens = await ial2.redeem(await finishAtAgency(p.agent, server, `${server.url}${continueUrl}`), auth);
    expect(tokens.claims()!.acr).toBe('urn:acr.login.gov:verified-facial-match-required');
  });

  test('when a verified person recovers their account with a recovery code, then the verified identity waits for the personal key', async () => {
    const authenticator = newAuthenticator();
    const a = await ial1.authorize();
    const email = `r-${randomUUID().slice(0, 8)}@example.com`;
    const { agent, recoveryCodes } = await signUp({ server, authenticator, authUrl: a.url, email });
    const { personalKey } = await verifyIdentity({ server, agent, authenticator });

    // Every passkey lost: a recovery code and a new passkey.
    const fresh = newAuthenticator();
    const other = new Agent();
    const b = await ial2.authorize({ acr_values: 'urn:acr.login.gov:verified' });
    const { url } = await other.follow(b.url, server.url);
    const base = `${server.url}/interaction/${interactionUid(url)}`;
    await other.page(`${base}/recovery`);
    await other.request(`${base}/recovery`, { method: 'POST', form: { email, code: recoveryCodes[0]! } });
    await other.page(`${base}/recovery/passkey`);
    const opt = await other.request(`${base}/recovery/passkey/options`, { method: 'POST', json: {} });
    const done = await other.request(`${base}/recovery/passkey`, { method: 'POST', form: { response: JSON.stringify(fresh.createCredential({ options: await opt.json() })) } });
    // Recovery-code sessions are AAL1: the agency's AAL2-by-default passkey requirement and IAL2 both need more.
    const next = await other.follow(new URL(done.headers.get('location')!, server.url).toString(), server.url);
    const page = await other.page(next.url);
    expect(page.html).toMatch(/Verify your identity|Confirm with a passkey/);

    let account = await other.page(`${server.url}/account`);
    expect(account.html).toContain('Enter the personal key');
    const wrong = await other.request(`${server.url}/account/identity/reactivate`, { method: 'POST', form: { personal_key: 'AAAA-BBBB-CCCC-DDDD' } });
    expect(wrong.headers.get('location')).toBe('/account?error=personal_key_wrong');
    account = await other.page(`${server.url}/account`);
    const ok = await other.request(`${server.url}/account/identity/reactivate`, { method: 'POST', form: { personal_key: personalKey.toLowerCase() } });
    expect(ok.status).toBe(200);
    const html = await ok.text();
    const newKey = html.match(/data-testid="personal-key"><code>([^<]+)<\/code>/)![1]!;
    expect(newKey).not.toBe(personalKey);
    account = await other.page(`${server.url}/account`);
    expect(account.html).toContain('Your identity was verified on');
  });
});
