import type { Passkey } from '../../entities/index.js';
import type { AttestationTrustStore } from './loadAttestationTrustStore.js';

/** What one passkey sign-in achieves (IAL comes from the verified profile, not from here). */
export interface PasskeyAssurance {
  ial: 1;
  aal: 2 | 3;
  phishingResistant: true;
}

type AssuredPasskey = Pick<Passkey, 'aaguid' | 'backupEligible' | 'attestation' | 'attestationRoot'>;

/**
 * Whether a passkey can meet AAL3: NIST SP 800-63B-4 asks for a non-exportable key in
 * hardware, which only an attestation can show — not the BE flag, which the authenticator
 * reports about itself. So: its registration's attestation chained to a root the trust store
 * (as loaded now) still lists for its AAGUID, the store says the model is hardware-protected,
 * and the credential is not backup-eligible (a synced key can leave the device). Everything
 * else, passkeys registered before OneDoor asked for attestation included, is AAL2 at most.
 */
export function meetsAal3(opts: { passkey: AssuredPasskey; trust: AttestationTrustStore }): boolean {
  const { passkey } = opts;
  if (passkey.backupEligible || passkey.attestation !== 'trusted' || !passkey.attestationRoot) return false;
  const known = opts.trust.authenticators.get(passkey.aaguid.toLowerCase());
  return !!known?.hardwareProtected && known.roots.has(passkey.attestationRoot);
}

/** Whether any passkey could meet AAL3 here: the trust store lists a hardware-protected model. */
export function offersAal3(trust: AttestationTrustStore): boolean {
  return [...trust.authenticators.values()].some((a) => a.hardwareProtected);
}

/** Assurance reached by a passkey with user verification. */
export function passkeyAssurance(opts: { passkey: AssuredPasskey; trust: AttestationTrustStore }): PasskeyAssurance {
  return { ial: 1, aal: meetsAal3(opts) ? 3 : 2, phishingResistant: true };
}

/** RFC 8176 `amr` values for a passkey sign-in: proof of possession, user verification, and the kind of key (`hwk` only for AAL3). */
export function passkeyAmr(opts: { passkey: AssuredPasskey; trust: AttestationTrustStore }): string[] {
  return ['pop', meetsAal3(opts) ? 'hwk' : 'swk', 'user'];
}
