import { generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestCa, issueAttestationCertificate, type TestCa } from './testCertificates.js';

/**
 * Attestation trust store files as an operator writes or downloads them (README, "Attestation
 * trust store (AAL3)"): OneDoor's JSON format, and FIDO Metadata Service BLOBs signed by a test
 * metadata CA.
 */

/** A test model's AAGUID, and another for "listed under the wrong AAGUID". */
export const TEST_AAGUID = '5ca1ab1e-0000-4000-8000-00000000a0a1';
export const OTHER_AAGUID = '5ca1ab1e-0000-4000-8000-00000000b0b2';

export interface JsonAuthenticator {
  aaguid: string;
  hardwareProtected: boolean;
  attestationRootCertificates: string[];
  description?: string;
}

/** A folder of trust-store files for one test file (removed with `cleanup`). */
export function trustStoreDir(): { dir: string; write(name: string, content: string): string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-trust-'));
  return {
    dir,
    write(name, content) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      return file;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export const jsonTrustStore = (authenticators: JsonAuthenticator[]) => JSON.stringify({ authenticators }, null, 2);

/** A metadata signer: a root (the operator's PEM file), and a signing certificate under an intermediate. */
export interface MetadataSigner {
  root: TestCa;
  x5c: Buffer[];
  key: import('node:crypto').KeyObject;
}

export function metadataSigner(): MetadataSigner {
  const root = createTestCa({ name: 'Test Metadata Root' });
  const intermediate = createTestCa({ name: 'Test Metadata CA', issuer: root });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = issueAttestationCertificate({ ca: intermediate, publicKey, aaguid: '00000000-0000-0000-0000-000000000000', model: 'Test Metadata Signer' });
  return { root, x5c: [leaf, ...intermediate.chain], key: privateKey };
}

export interface BlobEntry {
  aaguid?: string;
  description?: string;
  keyProtection?: string[];
  roots?: string[];
  statusReports?: Array<{ status: string }>;
}

/** An MDS3 BLOB: a JWS (ES256) with the signer's chain in x5c, entries shaped as FIDO's. */
export function metadataBlob(opts: { signer: MetadataSigner; entries: BlobEntry[]; nextUpdate?: string; tamper?: boolean }): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const header = b64({ alg: 'ES256', typ: 'JWT', x5c: opts.signer.x5c.map((c) => c.toString('base64')) });
  const payload = b64({
    legalHeader: 'test', no: 1, nextUpdate: opts.nextUpdate ?? '2099-01-01',
    entries: opts.entries.map((e) => ({
      ...(e.aaguid ? { aaguid: e.aaguid } : {}),
      metadataStatement: {
        description: e.description ?? 'Test Security Key', aaguid: e.aaguid, attestationTypes: ['basic_full'],
        keyProtection: e.keyProtection ?? ['hardware', 'secure_element'],
        attestationRootCertificates: (e.roots ?? []).map((pem) => pem.replace(/-----[A-Z ]+-----|\s/g, '')),
      },
      statusReports: e.statusReports ?? [{ status: 'FIDO_CERTIFIED_L1' }],
      timeOfLastStatusChange: '2024-01-01',
    })),
  });
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: opts.signer.key, dsaEncoding: 'ieee-p1363' });
  if (opts.tamper) signature[0] = signature[0]! ^ 0x01;
  return `${header}.${payload}.${signature.toString('base64url')}`;
}
