import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { jest } from '@jest/globals';
import { decodeAttestationObject, isoCBOR } from '@simplewebauthn/server/helpers';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { Passkey } from '../../../entities/index.js';
import type { RelyingParty } from '../../../src/passkeys/challenges.js';
import { finishRegistration } from '../../../src/passkeys/finishRegistration.js';
import { hasAal3Passkey } from '../../../src/passkeys/hasAal3Passkey.js';
import { type AttestationTrustStore, loadAttestationTrustStore, NO_ATTESTATION_TRUST } from '../../../src/passkeys/loadAttestationTrustStore.js';
import { meetsAal3, passkeyAmr, passkeyAssurance } from '../../../src/passkeys/passkeyAssurance.js';
import { startAuthentication } from '../../../src/passkeys/startAuthentication.js';
import { startRegistration } from '../../../src/passkeys/startRegistration.js';
import { createTestDb, type TestDb } from '../../support/db.js';
import { SoftAuthenticator } from '../../support/softAuthenticator.js';
import { createTestCa, type TestCa } from '../../support/testCertificates.js';
import { jsonTrustStore, OTHER_AAGUID, TEST_AAGUID, trustStoreDir } from '../../support/trustStores.js';

/**
 * What a registration's attestation earns: AAL3 only for a passkey whose attestation chains to
 * a root the trust store lists for its AAGUID, of a hardware-protected model, and not
 * backup-eligible. Everything else registers and counts AAL2.
 */

const rp: RelyingParty = { rpId: 'localhost', rpName: 'OneDoor', origin: 'http://localhost:3000' };
const files = trustStoreDir();
let testDb: TestDb;
const db = () => testDb.ds.manager;

const root = createTestCa({ name: 'Test Attestation Root' });
const intermediate = createTestCa({ name: 'Test Attestation CA', issuer: root });
/** A forger's CA with the same name as the trusted root. */
const impostor = createTestCa({ name: 'Test Attestation Root' });
const softwareRoot = createTestCa({ name: 'Software Key Root' });
const SOFTWARE_AAGUID = '5ca1ab1e-0000-4000-8000-0000000000f6';

let trust: AttestationTrustStore;
beforeAll(async () => {
  testDb = await createTestDb();
  const file = files.write('store.json', jsonTrustStore([
    { aaguid: TEST_AAGUID, hardwareProtected: true, attestationRootCertificates: [root.pem] },
    { aaguid: SOFTWARE_AAGUID, hardwareProtected: false, attestationRootCertificates: [softwareRoot.pem] },
  ]));
  trust = loadAttestationTrustStore({ files: [file], at: new Date() }).store;
});
afterAll(async () => { await testDb?.close(); files.cleanup(); });

const fingerprint = (ca: TestCa) => createHash('sha256').update(new X509Certificate(ca.cert).raw).digest('hex');

function authenticator(opts: { ca?: TestCa; aaguid?: string; backupEligible?: boolean; appendCertificates?: Buffer[] } = {}): SoftAuthenticator {
  return new SoftAuthenticator({
    origin: rp.origin, rpId: rp.rpId, backupEligible: opts.backupEligible ?? false,
    ...(opts.ca ? { attestation: { ca: opts.ca, aaguid: opts.aaguid ?? TEST_AAGUID, appendCertificates: opts.appendCertificates } } : {}),
  });
}

/** Registers a passkey on `device` for a new account; `edit` changes the response on its way. */
async function register(device: SoftAuthenticator, opts: { edit?: (r: RegistrationResponseJSON) => RegistrationResponseJSON; store?: AttestationTrustStore } = {}) {
  const accountId = randomUUID();
  const bindingId = randomUUID();
  const options = await startRegistration({ db: db(), rp, bindingId, accountId, userName: `${accountId}@example.com`, userDisplayName: 'Test Person' });
  expect(options.attestation).toBe('direct');
  const response = device.createCredential({ options });
  const result = await finishRegistration({ db: db(), rp, bindingId, response: opts.edit ? opts.edit(response) : response, name: 'Key', trust: opts.store ?? trust });
  if (!result.ok) throw new Error(`registration failed: ${result.reason}`);
  return { accountId, passkey: result.passkey };
}

type CBORValue = Parameters<typeof isoCBOR.encode>[0];
/** The response with its attestation object changed: another fmt, or a broken statement signature. */
function reencode(response: RegistrationResponseJSON, change: { fmt?: string; breakSignature?: boolean }): RegistrationResponseJSON {
  const decoded = decodeAttestationObject(Buffer.from(response.response.attestationObject, 'base64url'));
  const attStmt = decoded.get('attStmt') as unknown as Map<string, CBORValue>;
  if (change.breakSignature) {
    const sig = Uint8Array.from(attStmt.get('sig') as Uint8Array);
    sig[sig.length - 1] ^= 0x01;
    attStmt.set('sig', sig);
  }
  const out = isoCBOR.encode(new Map<string, CBORValue>([['fmt', change.fmt ?? String(decoded.get('fmt'))], ['attStmt', attStmt], ['authData', decoded.get('authData')]]));
  return { ...response, response: { ...response.response, attestationObject: Buffer.from(out).toString('base64url') } };
}

describe('registration records what the attestation shows', () => {
  test('when a device-bound key of a hardware-protected model attests with a chain to its listed root, then it is trusted and meets AAL3 (amr hwk)', async () => {
    const { passkey } = await register(authenticator({ ca: root }));
    expect(passkey).toMatchObject({ attestation: 'trusted', attestationRoot: fingerprint(root), aaguid: TEST_AAGUID, backupEligible: false });
    expect(meetsAal3({ passkey, trust })).toBe(true);
    expect(passkeyAssurance({ passkey, trust }).aal).toBe(3);
    expect(passkeyAmr({ passkey, trust })).toEqual(['pop', 'hwk', 'user']);
  });

  test('when the chain runs through an intermediate CA in x5c, then it reaches the listed root and is trusted', async () => {
    const { passkey } = await register(authenticator({ ca: intermediate }));
    expect(passkey).toMatchObject({ attestation: 'trusted', attestationRoot: fingerprint(root) });
    expect(meetsAal3({ passkey, trust })).toBe(true);
  });

  test('when the same model attests but its root is not in the store, then the passkey registers as untrusted and counts AAL2 (amr swk)', async () => {
    const { passkey } = await register(authenticator({ ca: createTestCa({ name: 'Unlisted Root' }) }));
    expect(passkey).toMatchObject({ attestation: 'untrusted', attestationRoot: null });
    expect(passkeyAssurance({ passkey, trust }).aal).toBe(2);
    expect(passkeyAmr({ passkey, trust })).toEqual(['pop', 'swk', 'user']);
  });

  test('when the key is backup-eligible (synced), then a trusted attestation still counts AAL2', async () => {
    const { passkey } = await register(authenticator({ ca: root, backupEligible: true }));
    expect(passkey).toMatchObject({ attestation: 'trusted', backupEligible: true });
    expect(meetsAal3({ passkey, trust })).toBe(false);
  });

  test('when the authenticator gives none attestation, then the passkey registers as none and counts AAL2 though its BE flag is clear', async () => {
    const { passkey } = await register(authenticator());
    expect(passkey).toMatchObject({ attestation: 'none', attestationRoot: null, backupEligible: false });
    expect(meetsAal3({ passkey, trust })).toBe(false);
  });

  test('when the store says the model keeps keys in software, then a trusted attestation counts AAL2', async () => {
    const { passkey } = await register(authenticator({ ca: softwareRoot, aaguid: SOFTWARE_AAGUID }));
    expect(passkey).toMatchObject({ attestation: 'trusted', attestationRoot: fingerprint(softwareRoot) });
    expect(meetsAal3({ passkey, trust })).toBe(false);
  });

  test('when the leaf is signed by another CA bearing the trusted root\'s name, then it is untrusted', async () => {
    const { passkey } = await register(authenticator({ ca: impostor }));
    expect(passkey.attestation).toBe('untrusted');
    expect(meetsAal3({ passkey, trust })).toBe(false);
  });

  test('when a forger appends the trusted root to an x5c its leaf does not chain to, then it is untrusted', async () => {
    const { passkey } = await register(authenticator({ ca: impostor, appendCertificates: [root.cert] }));
    expect(passkey.attestation).toBe('untrusted');
  });

  test('when the store lists the root under another AAGUID, then an attestation from it is untrusted', async () => {
    const { passkey } = await register(authenticator({ ca: root, aaguid: OTHER_AAGUID }));
    expect(passkey).toMatchObject({ attestation: 'untrusted', aaguid: OTHER_AAGUID });
  });

  test('when the attestation statement\'s signature is broken, then the passkey still registers, as invalid, at AAL2', async () => {
    const { passkey } = await register(authenticator({ ca: root }), { edit: (r) => reencode(r, { breakSignature: true }) });
    expect(passkey).toMatchObject({ attestation: 'invalid', attestationRoot: null });
    expect(meetsAal3({ passkey, trust })).toBe(false);
  });

  test('when the statement claims a format OneDoor does not check (android-key, apple), then it is set aside unread, nothing is fetched, and the passkey registers at AAL2', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    try {
      for (const fmt of ['android-key', 'apple', 'android-safetynet', 'made-up']) {
        const { passkey } = await register(authenticator({ ca: root }), { edit: (r) => reencode(r, { fmt }) });
        expect(passkey).toMatchObject({ attestation: 'unsupported', attestationRoot: null });
        expect(meetsAal3({ passkey, trust })).toBe(false);
      }
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  test('when there is no trust store, then an attested key registers as untrusted', async () => {
    const { passkey } = await register(authenticator({ ca: root }), { store: NO_ATTESTATION_TRUST });
    expect(passkey.attestation).toBe('untrusted');
  });

  test('when the challenge or origin is wrong, then stripping the attestation does not rescue the registration', async () => {
    const device = authenticator({ ca: root });
    const bindingId = randomUUID();
    const options = await startRegistration({ db: db(), rp, bindingId, accountId: randomUUID(), userName: 'x@example.com', userDisplayName: 'X' });
    const response = device.createCredential({ options, origin: 'https://evil.example' });
    expect(await finishRegistration({ db: db(), rp, bindingId, response, name: 'Key', trust })).toEqual({ ok: false, reason: 'not_verified' });
  });
});

describe('AAL3 follows the trust store loaded now', () => {
  test('when the operator removes a root or marks its model not hardware-protected, then a passkey trusted at registration no longer meets AAL3', async () => {
    const { passkey } = await register(authenticator({ ca: root }));
    expect(meetsAal3({ passkey, trust })).toBe(true);
    const other = createTestCa({ name: 'Other' });
    const without = loadAttestationTrustStore({ files: [files.write('without.json', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: true, attestationRootCertificates: [other.pem] }]))], at: new Date() }).store;
    const demoted = loadAttestationTrustStore({ files: [files.write('demoted.json', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: false, attestationRootCertificates: [root.pem] }]))], at: new Date() }).store;
    expect(meetsAal3({ passkey, trust: without })).toBe(false);
    expect(meetsAal3({ passkey, trust: demoted })).toBe(false);
    expect(meetsAal3({ passkey, trust: NO_ATTESTATION_TRUST })).toBe(false);
  });

  test('when a row says trusted but carries no root (as no registration writes), then it does not meet AAL3', () => {
    expect(meetsAal3({ passkey: { aaguid: TEST_AAGUID, backupEligible: false, attestation: 'trusted', attestationRoot: null }, trust })).toBe(false);
  });
});

describe('the AAL3 step-up offers only passkeys that meet AAL3', () => {
  test('when an account has an attested security key, a synced passkey and an unattested device-bound one, then only the security key is offered and counted', async () => {
    const key = await register(authenticator({ ca: root }));
    const accountId = key.accountId;
    const synced = await register(authenticator({ ca: root, backupEligible: true }));
    const unattested = await register(authenticator());
    for (const p of [key.passkey, { ...synced.passkey, accountId }, { ...unattested.passkey, accountId }]) await db().getRepository(Passkey).insert(p);
    const options = await startAuthentication({ db: db(), rp, bindingId: randomUUID(), accountId, aal3Under: trust });
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([key.passkey.id]);
    const all = await startAuthentication({ db: db(), rp, bindingId: randomUUID(), accountId });
    expect(all.allowCredentials).toHaveLength(3);
    expect(await hasAal3Passkey({ db: db(), accountId, trust })).toBe(true);
    expect(await hasAal3Passkey({ db: db(), accountId, trust: NO_ATTESTATION_TRUST })).toBe(false);
    await db().getRepository(Passkey).delete({ id: key.passkey.id });
    expect(await hasAal3Passkey({ db: db(), accountId, trust })).toBe(false);
  });
});
