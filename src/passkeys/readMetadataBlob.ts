import { constants, verify, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { chainsToAnchor } from './chainsToAnchor.js';

/** An authenticator model as a metadata BLOB describes it. */
export interface MetadataAuthenticator {
  /** Lower-case, with hyphens. */
  aaguid: string;
  description: string;
  hardwareProtected: boolean;
  roots: X509Certificate[];
}

export interface MetadataBlob {
  authenticators: MetadataAuthenticator[];
  /** The BLOB's `nextUpdate` (YYYY-MM-DD): after it, newer status reports may exist. */
  nextUpdate: string;
  /** Entries left out: FIDO2 models with a disqualifying status report or unreadable roots. */
  leftOut: number;
}

/** JWS algorithms (RFC 7518 §3) a BLOB may be signed with, as node:crypto verify options. */
const JWS_ALGS: Record<string, { hash: string; padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' }> = {
  RS256: { hash: 'sha256' }, RS384: { hash: 'sha384' }, RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  PS384: { hash: 'sha384', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
  PS512: { hash: 'sha512', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
  ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' }, ES384: { hash: 'sha384', dsaEncoding: 'ieee-p1363' }, ES512: { hash: 'sha512', dsaEncoding: 'ieee-p1363' },
};

/**
 * Key protection types (FIDO Registry of Predefined Values §3.2) that keep the private key in
 * hardware: non-exportable, as NIST SP 800-63B-4 asks of an AAL3 authenticator. A model that
 * also lists `software` may keep it in software, and does not count.
 */
const HARDWARE_KEY_PROTECTION = new Set(['hardware', 'secure_element', 'tee']);

/**
 * Status reports (FIDO Metadata Service v3.0 §3.1.4) after which an attestation from the model
 * shows nothing: keys or user verification may be compromised, or FIDO revoked the model.
 */
const DISQUALIFYING_STATUS = new Set(['REVOKED', 'USER_VERIFICATION_BYPASS', 'ATTESTATION_KEY_COMPROMISE', 'USER_KEY_REMOTE_COMPROMISE', 'USER_KEY_PHYSICAL_COMPROMISE']);

const Header = z.object({ alg: z.string(), x5c: z.array(z.string()).min(1).max(5) });
const Payload = z.object({
  nextUpdate: z.string(),
  entries: z.array(z.object({
    aaguid: z.string().optional(),
    metadataStatement: z.object({
      description: z.string().optional(),
      keyProtection: z.array(z.string()).optional(),
      attestationRootCertificates: z.array(z.string()).optional(),
    }).optional(),
    statusReports: z.array(z.object({ status: z.string() })).optional(),
  })),
});

function json(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * A FIDO Metadata Service BLOB (MDS3: a JWS whose x5c header chains to `roots`), verified and
 * read into the FIDO2 authenticator models it lists, with their attestation roots and whether
 * their keys are hardware-protected. Nothing is fetched: the operator downloads the BLOB
 * (https://mds3.fidoalliance.org/) and OneDoor reads the file; certificate revocation lists
 * are not consulted, so a current BLOB matters. Throws with a one-line reason when the BLOB
 * cannot be trusted as a whole.
 */
export function readMetadataBlob(opts: { jwt: string; roots: readonly X509Certificate[]; at: Date }): MetadataBlob {
  const [h, p, s] = opts.jwt.split('.') as [string, string, string];
  const header = Header.safeParse(json(h));
  if (!header.success) throw new Error('not a metadata BLOB: its header has no alg and x5c');
  const alg = JWS_ALGS[header.data.alg];
  if (!alg) throw new Error(`the metadata BLOB is signed with ${header.data.alg.slice(0, 16)}, which OneDoor does not accept`);
  let chain: X509Certificate[];
  try {
    chain = header.data.x5c.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch {
    throw new Error('the metadata BLOB\'s x5c holds something that is not a certificate');
  }
  if (!chainsToAnchor({ chain, anchors: opts.roots, at: opts.at })) throw new Error('the metadata BLOB\'s certificate chain does not reach a trusted root (or a certificate in it has expired)');
  let signed = false;
  try {
    signed = verify(alg.hash, Buffer.from(`${h}.${p}`), { key: chain[0]!.publicKey, padding: alg.padding, saltLength: alg.saltLength, dsaEncoding: alg.dsaEncoding }, Buffer.from(s, 'base64url'));
  } catch {
    signed = false;
  }
  if (!signed) throw new Error('the metadata BLOB\'s signature does not verify');
  const payload = Payload.safeParse(json(p));
  if (!payload.success) throw new Error('the metadata BLOB\'s payload has no nextUpdate and entries');

  const authenticators: MetadataAuthenticator[] = [];
  let leftOut = 0;
  for (const entry of payload.data.entries) {
    // U2F models (no AAGUID) are named by key identifiers instead: they register with a zero AAGUID and never count.
    if (!entry.aaguid || !entry.metadataStatement) continue;
    const statement = entry.metadataStatement;
    if ((entry.statusReports ?? []).some((r) => DISQUALIFYING_STATUS.has(r.status))) { leftOut++; continue; }
    let roots: X509Certificate[];
    try {
      roots = (statement.attestationRootCertificates ?? []).map((c) => new X509Certificate(Buffer.from(c, 'base64')));
    } catch {
      leftOut++;
      continue;
    }
    const protection = statement.keyProtection ?? [];
    authenticators.push({
      aaguid: entry.aaguid.toLowerCase(),
      description: statement.description ?? '',
      hardwareProtected: protection.some((k) => HARDWARE_KEY_PROTECTION.has(k)) && !protection.includes('software'),
      roots,
    });
  }
  return { authenticators, nextUpdate: payload.data.nextUpdate, leftOut };
}
