import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FIDO_METADATA_ROOTS } from './fidoMetadataRoots.js';
import { readMetadataBlob } from './readMetadataBlob.js';

/** An authenticator model the operator trusts attestations from. */
export interface TrustedAuthenticator {
  hardwareProtected: boolean;
  /** Attestation roots for this AAGUID, by SHA-256 of their DER (hex). */
  roots: ReadonlyMap<string, X509Certificate>;
}

/**
 * The operator's attestation trust store (ATTESTATION_TRUST_STORE), read once when an app
 * starts: per AAGUID, the roots an attestation must chain to and whether the model keeps keys
 * in hardware. Each app holds its own; nothing is kept in @simplewebauthn/server's process-wide
 * SettingsService or MetadataService, so apps in one process never see each other's store.
 */
export interface AttestationTrustStore {
  authenticators: ReadonlyMap<string, TrustedAuthenticator>;
}

/** No store configured: attestations are recorded, and no passkey counts for AAL3. */
export const NO_ATTESTATION_TRUST: AttestationTrustStore = { authenticators: new Map() };

export class AttestationTrustStoreError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The plain JSON format: AAGUIDs, their attestation roots, and whether their keys are hardware-protected. */
const JsonStore = z.strictObject({
  authenticators: z.array(z.strictObject({
    aaguid: z.string().transform((s) => s.toLowerCase()).pipe(z.string().regex(UUID, 'must be a UUID such as 01020304-0506-0708-0102-030405060708').refine((s) => s !== ZERO_AAGUID, 'the zero AAGUID names no authenticator model')),
    description: z.string().max(200).optional(),
    hardwareProtected: z.boolean({ message: 'must be true or false' }),
    attestationRootCertificates: z.array(z.string()).min(1, 'must list at least one certificate'),
  })).min(1, 'must list at least one authenticator'),
});

const fingerprint = (cert: X509Certificate) => createHash('sha256').update(cert.raw).digest('hex');

/** A certificate as PEM or as base64 DER (the form FIDO metadata uses). */
function certificate(text: string): X509Certificate {
  return new X509Certificate(text.includes('-----BEGIN') ? text : Buffer.from(text, 'base64'));
}

type Found = { aaguid: string; hardwareProtected: boolean; roots: X509Certificate[] };

function fromJson(text: string): Found[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  const parsed = JsonStore.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || 'the file'}: ${issue.message}`);
  }
  return parsed.data.authenticators.map((a, i) => ({
    aaguid: a.aaguid, hardwareProtected: a.hardwareProtected,
    roots: a.attestationRootCertificates.map((c, j) => {
      try {
        return certificate(c);
      } catch {
        throw new Error(`authenticators.${i}.attestationRootCertificates.${j}: not a certificate (PEM or base64 DER)`);
      }
    }),
  }));
}

function pemCertificates(text: string): X509Certificate[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => {
    try {
      return new X509Certificate(m[0]);
    } catch {
      throw new Error('holds a PEM block that is not a certificate');
    }
  });
}

/**
 * Reads the files ATTESTATION_TRUST_STORE lists, each one of: a FIDO Metadata Service BLOB
 * (MDS3 JWT), a JSON file in OneDoor's format, or PEM certificates — roots to verify the listed
 * BLOBs with instead of the FIDO root OneDoor ships. Where files name the same AAGUID, its roots
 * are pooled and it is hardware-protected only if every file says so. Throws
 * AttestationTrustStoreError (one line, naming the variable and file) when anything cannot be
 * read or trusted: OneDoor does not start on a store it cannot read whole.
 */
export function loadAttestationTrustStore(opts: { files: readonly string[]; at: Date }): { store: AttestationTrustStore; warnings: string[] } {
  if (opts.files.length === 0) return { store: NO_ATTESTATION_TRUST, warnings: [] };
  const fail = (file: string, reason: string) => new AttestationTrustStoreError(`ATTESTATION_TRUST_STORE: ${path.basename(file)}: ${reason}`);
  const texts = opts.files.map((file) => {
    try {
      return { file, text: fs.readFileSync(file, 'utf8').trim() };
    } catch {
      throw fail(file, 'cannot be read');
    }
  });
  const blobs = texts.filter((t) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(t.text));
  const pems = texts.filter((t) => !blobs.includes(t) && t.text.startsWith('-----BEGIN'));
  const jsons = texts.filter((t) => t.text.startsWith('{'));
  const other = texts.find((t) => !blobs.includes(t) && !pems.includes(t) && !jsons.includes(t));
  if (other) throw fail(other.file, 'is not a FIDO metadata BLOB, a JSON trust store or PEM certificates');
  if (pems.length && !blobs.length) throw fail(pems[0]!.file, 'PEM certificates here are roots for a metadata BLOB, and the list names no BLOB');

  const blobRoots = pems.length
    ? pems.flatMap(({ file, text }) => { try { return pemCertificates(text); } catch (err) { throw fail(file, (err as Error).message); } })
    : FIDO_METADATA_ROOTS.map((pem) => new X509Certificate(pem));
  const warnings: string[] = [];
  const found: Found[] = [];
  for (const { file, text } of blobs) {
    try {
      const blob = readMetadataBlob({ jwt: text, roots: blobRoots, at: opts.at });
      found.push(...blob.authenticators);
      if (new Date(`${blob.nextUpdate}T23:59:59Z`) < opts.at) warnings.push(`ATTESTATION_TRUST_STORE: ${path.basename(file)}: its nextUpdate (${blob.nextUpdate.slice(0, 10)}) has passed; download a current BLOB`);
      if (blob.leftOut) warnings.push(`ATTESTATION_TRUST_STORE: ${path.basename(file)}: ${blob.leftOut} authenticator models left out (revoked or compromised per their status reports, or unreadable roots)`);
    } catch (err) {
      throw fail(file, (err as Error).message);
    }
  }
  for (const { file, text } of jsons) {
    try {
      found.push(...fromJson(text));
    } catch (err) {
      throw fail(file, (err as Error).message);
    }
  }

  const authenticators = new Map<string, { hardwareProtected: boolean; roots: Map<string, X509Certificate> }>();
  for (const f of found) {
    const known = authenticators.get(f.aaguid);
    const entry = known ?? { hardwareProtected: f.hardwareProtected, roots: new Map<string, X509Certificate>() };
    entry.hardwareProtected &&= f.hardwareProtected;
    for (const root of f.roots) {
      entry.roots.set(fingerprint(root), root);
      if (new Date(root.validTo) < opts.at) warnings.push(`ATTESTATION_TRUST_STORE: a root for ${f.aaguid} expired on ${new Date(root.validTo).toISOString().slice(0, 10)}; attestations chaining to it are not trusted`);
    }
    authenticators.set(f.aaguid, entry);
  }
  return { store: { authenticators }, warnings };
}
