import { createHash, X509Certificate } from 'node:crypto';
import { ConfigError, loadConfig } from '../../../src/config/loadConfig.js';
import { AttestationTrustStoreError, loadAttestationTrustStore } from '../../../src/passkeys/loadAttestationTrustStore.js';
import { createTestCa } from '../../support/testCertificates.js';
import { jsonTrustStore, metadataBlob, metadataSigner, OTHER_AAGUID, TEST_AAGUID, trustStoreDir } from '../../support/trustStores.js';

/**
 * Reading the operator's attestation trust store (ATTESTATION_TRUST_STORE): OneDoor's JSON
 * format, FIDO Metadata Service BLOBs and the PEM roots that verify them. A store that cannot
 * be read whole stops the start with one line naming the variable and the file.
 */

const files = trustStoreDir();
afterAll(() => files.cleanup());
const now = new Date();
const ca = createTestCa({ name: 'Test Attestation Root' });
const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
const load = (...paths: string[]) => loadAttestationTrustStore({ files: paths, at: now });

/** The one-line error a list of files gives, or undefined when it loads. */
function errorOf(...paths: string[]): string | undefined {
  try {
    load(...paths);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(AttestationTrustStoreError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
}

describe('the JSON format', () => {
  test('when a file lists an AAGUID with its root and hardwareProtected, then the store has that model with the root by its SHA-256', () => {
    const file = files.write('keys.json', jsonTrustStore([{ aaguid: TEST_AAGUID.toUpperCase(), hardwareProtected: true, attestationRootCertificates: [ca.pem], description: 'Test key' }]));
    const { store, warnings } = load(file);
    expect(warnings).toEqual([]);
    const model = store.authenticators.get(TEST_AAGUID)!;
    expect(model.hardwareProtected).toBe(true);
    expect([...model.roots.keys()]).toEqual([fingerprint(ca.pem)]);
  });

  test('when a root is given as base64 DER (as FIDO metadata writes it), then it is read too', () => {
    const der = ca.pem.replace(/-----[A-Z ]+-----|\s/g, '');
    const { store } = load(files.write('der.json', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: false, attestationRootCertificates: [der] }])));
    expect([...store.authenticators.get(TEST_AAGUID)!.roots.keys()]).toEqual([fingerprint(ca.pem)]);
  });

  test.each([
    ['not JSON', '{ "authenticators": [', 'not valid JSON'],
    ['no hardwareProtected statement', JSON.stringify({ authenticators: [{ aaguid: TEST_AAGUID, attestationRootCertificates: [ca.pem] }] }), 'authenticators.0.hardwareProtected: must be true or false'],
    ['an AAGUID that is not a UUID', jsonTrustStore([{ aaguid: 'yubikey', hardwareProtected: true, attestationRootCertificates: [ca.pem] }]), 'authenticators.0.aaguid: must be a UUID'],
    ['the zero AAGUID', jsonTrustStore([{ aaguid: '00000000-0000-0000-0000-000000000000', hardwareProtected: true, attestationRootCertificates: [ca.pem] }]), 'the zero AAGUID names no authenticator model'],
    ['no root', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: true, attestationRootCertificates: [] }]), 'must list at least one certificate'],
    ['a root that is not a certificate', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: true, attestationRootCertificates: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'] }]), 'authenticators.0.attestationRootCertificates.0: not a certificate'],
    ['a misspelt member', JSON.stringify({ authenticators: [{ aaguid: TEST_AAGUID, hardwareprotected: true, hardwareProtected: true, attestationRootCertificates: [ca.pem] }] }), 'hardwareprotected'],
    ['no authenticators', JSON.stringify({ authenticators: [] }), 'must list at least one authenticator'],
  ])('when the file has %s, then loading stops with a line naming the variable, the file and the fault', (_what, content, fault) => {
    const message = errorOf(files.write('bad.json', content));
    expect(message).toMatch(/^ATTESTATION_TRUST_STORE: bad\.json: /);
    expect(message).toContain(fault);
  });

  test('when a file is neither JSON, a BLOB nor PEM, or cannot be read, then loading stops', () => {
    expect(errorOf(files.write('notes.txt', 'trust everyone'))).toBe('ATTESTATION_TRUST_STORE: notes.txt: is not a FIDO metadata BLOB, a JSON trust store or PEM certificates');
    expect(errorOf(`${files.dir}/gone.json`)).toBe('ATTESTATION_TRUST_STORE: gone.json: cannot be read');
  });

  test('when no file is listed, then the store is empty (no model, so no AAL3)', () => {
    expect(load().store.authenticators.size).toBe(0);
  });
});

describe('FIDO Metadata Service BLOBs', () => {
  const signer = metadataSigner();
  const rootFile = files.write('mds-root.pem', signer.root.pem);
  const entries = [
    { aaguid: TEST_AAGUID, roots: [ca.pem], keyProtection: ['hardware', 'secure_element'] },
    { aaguid: OTHER_AAGUID, roots: [ca.pem], keyProtection: ['software'] },
    { aaguid: '5ca1ab1e-0000-4000-8000-0000000000c3', roots: [ca.pem], keyProtection: ['hardware', 'software'] },
    { aaguid: '5ca1ab1e-0000-4000-8000-0000000000d4', roots: [ca.pem], keyProtection: ['tee'] },
    { aaguid: '5ca1ab1e-0000-4000-8000-0000000000e5', roots: [ca.pem], statusReports: [{ status: 'FIDO_CERTIFIED_L1' }, { status: 'ATTESTATION_KEY_COMPROMISE' }] },
    { roots: [ca.pem] }, // a U2F model, named by key identifiers
  ];

  test('when a BLOB verifies against the operator\'s root, then its FIDO2 models are read with their roots and key protection', () => {
    const { store, warnings } = load(files.write('blob.jwt', metadataBlob({ signer, entries })), rootFile);
    const hardware = (aaguid: string) => store.authenticators.get(aaguid)?.hardwareProtected;
    expect(hardware(TEST_AAGUID)).toBe(true);
    expect(hardware('5ca1ab1e-0000-4000-8000-0000000000d4')).toBe(true); // tee
    expect(hardware(OTHER_AAGUID)).toBe(false); // software
    expect(hardware('5ca1ab1e-0000-4000-8000-0000000000c3')).toBe(false); // may be software
    expect([...store.authenticators.get(TEST_AAGUID)!.roots.keys()]).toEqual([fingerprint(ca.pem)]);
    // A model whose attestation key was compromised is left out, and the operator is told.
    expect(store.authenticators.has('5ca1ab1e-0000-4000-8000-0000000000e5')).toBe(false);
    expect(store.authenticators.size).toBe(4);
    expect(warnings).toEqual(['ATTESTATION_TRUST_STORE: blob.jwt: 1 authenticator models left out (revoked or compromised per their status reports, or unreadable roots)']);
  });

  test('when a BLOB\'s signature was tampered with, then loading stops', () => {
    expect(errorOf(files.write('tampered.jwt', metadataBlob({ signer, entries, tamper: true })), rootFile)).toBe('ATTESTATION_TRUST_STORE: tampered.jwt: the metadata BLOB\'s signature does not verify');
  });

  test('when a BLOB is signed by someone else\'s chain, then loading stops: against the FIDO root OneDoor ships, and against another operator root', () => {
    const blob = files.write('foreign.jwt', metadataBlob({ signer, entries }));
    expect(errorOf(blob)).toBe('ATTESTATION_TRUST_STORE: foreign.jwt: the metadata BLOB\'s certificate chain does not reach a trusted root (or a certificate in it has expired)');
    expect(errorOf(blob, files.write('other-root.pem', createTestCa({ name: 'Test Metadata Root' }).pem))).toContain('does not reach a trusted root');
  });

  test('when a BLOB says alg none or has no x5c, then loading stops', () => {
    const [, payload] = metadataBlob({ signer, entries }).split('.');
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    expect(errorOf(files.write('none.jwt', `${header({ alg: 'none', x5c: signer.x5c.map((c) => c.toString('base64')) })}.${payload}.AAAA`), rootFile)).toContain('signed with none, which OneDoor does not accept');
    expect(errorOf(files.write('nox5c.jwt', `${header({ alg: 'ES256' })}.${payload}.AAAA`), rootFile)).toContain('its header has no alg and x5c');
  });

  test('when a BLOB\'s nextUpdate has passed, then it is read and the operator is warned', () => {
    const { warnings } = load(files.write('old.jwt', metadataBlob({ signer, entries: entries.slice(0, 1), nextUpdate: '2020-01-01' })), rootFile);
    expect(warnings).toEqual(['ATTESTATION_TRUST_STORE: old.jwt: its nextUpdate (2020-01-01) has passed; download a current BLOB']);
  });

  test('when PEM roots are listed without a BLOB, then loading stops', () => {
    expect(errorOf(rootFile)).toBe('ATTESTATION_TRUST_STORE: mds-root.pem: PEM certificates here are roots for a metadata BLOB, and the list names no BLOB');
  });

  test('when a JSON file and a BLOB name the same model, then its roots are pooled and it is hardware-protected only if both say so', () => {
    const other = createTestCa({ name: 'Another Root' });
    const blob = files.write('both.jwt', metadataBlob({ signer, entries: entries.slice(0, 1) }));
    const json = files.write('demote.json', jsonTrustStore([{ aaguid: TEST_AAGUID, hardwareProtected: false, attestationRootCertificates: [other.pem] }]));
    const model = load(blob, rootFile, json).store.authenticators.get(TEST_AAGUID)!;
    expect(model.hardwareProtected).toBe(false);
    expect([...model.roots.keys()].sort()).toEqual([fingerprint(ca.pem), fingerprint(other.pem)].sort());
  });
});

describe('ATTESTATION_TRUST_STORE in the configuration', () => {
  const base = { LOG_LEVEL: 'silent' };
  test('when it names files, then the configuration holds their absolute paths', () => {
    const a = files.write('a.json', '{}');
    const b = files.write('b.jwt', 'x.y.z');
    expect(loadConfig({ ...base, ATTESTATION_TRUST_STORE: ` ${a} , ${b}` }).attestationTrustStore).toEqual([a, b]);
    expect(loadConfig(base).attestationTrustStore).toEqual([]);
  });

  test('when it names a missing file, a folder or has an empty entry, then start-up stops with one line naming the variable', () => {
    const a = files.write('c.json', '{}');
    expect(() => loadConfig({ ...base, ATTESTATION_TRUST_STORE: '/nonexistent/mds.jwt' })).toThrow(new ConfigError('ATTESTATION_TRUST_STORE: /nonexistent/mds.jwt is not a readable file'));
    expect(() => loadConfig({ ...base, ATTESTATION_TRUST_STORE: files.dir })).toThrow(new ConfigError(`ATTESTATION_TRUST_STORE: ${files.dir} is not a readable file`));
    expect(() => loadConfig({ ...base, ATTESTATION_TRUST_STORE: `${a},,${a}` })).toThrow(new ConfigError('ATTESTATION_TRUST_STORE: an empty entry in the list (write FILE or FILE,FILE)'));
  });
});
