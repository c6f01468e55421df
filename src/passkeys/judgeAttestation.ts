import { X509Certificate } from 'node:crypto';
import type { AttestationTrustStore } from './loadAttestationTrustStore.js';
import { chainsToAnchor } from './chainsToAnchor.js';

/**
 * What a registration's attestation showed, as stored in `passkeys.attestation`:
 * - `trusted`: its certificate chain reaches a root the trust store lists for its AAGUID;
 * - `untrusted`: a verified statement with a chain that reaches no such root;
 * - `self`: signed by the credential's own key (shows nothing about the device);
 * - `none`: the browser or authenticator gave no attestation;
 * - `unsupported`: a format OneDoor does not check (see finishRegistration.ts);
 * - `invalid`: a statement that did not verify;
 * - `unknown`: registered before OneDoor asked for attestation (the migration's default).
 * Every one of them registers; only `trusted` can count for AAL3 (see passkeyAssurance.ts).
 */
export type AttestationOutcome = 'trusted' | 'untrusted' | 'self' | 'none' | 'unsupported' | 'invalid' | 'unknown';

/**
 * Judges an attestation statement that @simplewebauthn/server has already verified (its
 * signature, and for `packed` the leaf certificate's form and AAGUID extension) against the
 * operator's trust store: does its x5c chain reach a root listed for the AAGUID in the
 * authenticator data? The chain is checked here, with node:crypto, and not through
 * SettingsService.setRootCertificates: that is one list per format for the whole process, not
 * per AAGUID, and would be shared by every app in it.
 */
export function judgeAttestation(opts: { trust: AttestationTrustStore; fmt: string; x5c: readonly Uint8Array[] | undefined; aaguid: string; at: Date }): { attestation: AttestationOutcome; root: string | null } {
  if (opts.fmt === 'none') return { attestation: 'none', root: null };
  if (!opts.x5c?.length) return { attestation: 'self', root: null };
  const known = opts.trust.authenticators.get(opts.aaguid.toLowerCase());
  if (!known) return { attestation: 'untrusted', root: null };
  let chain: X509Certificate[];
  try {
    chain = opts.x5c.map((der) => new X509Certificate(Buffer.from(der)));
  } catch {
    return { attestation: 'invalid', root: null };
  }
  const anchor = chainsToAnchor({ chain, anchors: [...known.roots.values()], at: opts.at });
  const root = anchor ? [...known.roots].find(([, cert]) => cert === anchor)?.[0] : undefined;
  return root ? { attestation: 'trusted', root } : { attestation: 'untrusted', root: null };
}
