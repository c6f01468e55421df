import type { Passkey } from '../../entities/index.js';

/** What one passkey sign-in achieves (IAL comes from the verified profile, not from here). */
export interface PasskeyAssurance {
  ial: 1;
  aal: 2 | 3;
  phishingResistant: true;
}

/** Assurance reached by a passkey with user verification: synced ones count at most AAL2. */
export function passkeyAssurance(passkey: Pick<Passkey, 'backupEligible'>): PasskeyAssurance {
  return { ial: 1, aal: passkey.backupEligible ? 2 : 3, phishingResistant: true };
}

/** RFC 8176 `amr` values for a passkey sign-in: proof of possession, user verification, and the kind of key. */
export function passkeyAmr(passkey: Pick<Passkey, 'backupEligible'>): string[] {
  return ['pop', passkey.backupEligible ? 'swk' : 'hwk', 'user'];
}
