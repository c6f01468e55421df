/**
 * Assurance levels and what each requires, as data (NIST SP 800-63-4). Identity assurance
 * (IAL) comes from the account's verified profile; authenticator assurance (AAL) from how the
 * current session was authenticated, and never more than that.
 */
export const LEVELS = [
  { id: 'IAL1', kind: 'ial', rank: 1, requires: 'an email address confirmed by a one-time code' },
  { id: 'IAL2', kind: 'ial', rank: 2, requires: 'identity proofed remotely: document, SSN and records, possession of a phone or address' },
  { id: 'AAL1', kind: 'aal', rank: 1, requires: 'a single factor, such as a recovery code' },
  { id: 'AAL2', kind: 'aal', rank: 2, requires: 'a passkey with user verification (synced, unattested or of a model the trust store does not vouch for)' },
  { id: 'AAL3', kind: 'aal', rank: 3, requires: 'a hardware security key with user verification whose attestation chains to a root the operator\'s trust store lists for its model (AAGUID) as hardware-protected, and that is not backup-eligible (SP 800-63B-4: non-exportable key)' },
] as const;

/**
 * AAL of a session from its RFC 8176 `amr`: `hwk` (an attested hardware security key, see
 * src/passkeys/passkeyAssurance.ts meetsAal3) is AAL3, `swk` (any other passkey) AAL2, anything
 * else (a recovery code, `otp`) AAL1.
 */
export function aalFromAmr(amr: readonly string[] | undefined): 1 | 2 | 3 {
  if (!amr) return 1;
  if (amr.includes('hwk') && amr.includes('user')) return 3;
  if (amr.includes('swk') && amr.includes('user')) return 2;
  return 1;
}

/** Days per unit of Login.gov's `verified_within` (`45d`, `8w`, `18m` of 30 days, `2y` of 365 days). */
const VERIFIED_WITHIN_UNITS: Readonly<Record<string, number>> = { d: 1, w: 7, m: 30, y: 365 };

/** A duration like Login.gov's `verified_within` (`30d`, `8w`, `18m`, `2y`), in seconds; undefined when malformed. */
export function parseVerifiedWithin(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{1,5})([dwmy])$/.exec(value);
  if (!m) return undefined;
  const days = Number(m[1]) * VERIFIED_WITHIN_UNITS[m[2]!]!;
  return days >= 1 ? days * 86400 : undefined;
}

export interface ProfileState {
  /** When identity proofing last completed; undefined when there is no active verified profile. */
  verifiedAt?: Date | undefined;
  facialMatch?: boolean;
}

/** The IAL a profile gives now, considering how recent it must be and whether a facial match is needed. */
export function ialFromProfile(profile: ProfileState, opts: { now: Date; verifiedWithinSeconds?: number | undefined; facialMatchRequired?: boolean | undefined }): 1 | 2 {
  if (!profile.verifiedAt) return 1;
  if (opts.verifiedWithinSeconds !== undefined && opts.now.getTime() - profile.verifiedAt.getTime() > opts.verifiedWithinSeconds * 1000) return 1;
  if (opts.facialMatchRequired && !profile.facialMatch) return 1;
  return 2;
}
