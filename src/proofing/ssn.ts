/**
 * Social Security numbers: parsing what a person typed, the SSA's structural rules, and the
 * only form that may be shown back (last four digits).
 *
 * Rules (SSA, "Social Security Number Randomization", https://www.ssa.gov/employer/randomization.html):
 * the area (first three digits) is never 000, 666 or 900–999; the group (middle two) is never 00; the
 * serial (last four) is never 0000. Since randomization (June 2011) nothing else about a valid
 * number can be inferred, so no other structure is checked here; whether the number belongs to
 * the person is the records check's job (vendors/ports.ts `RecordsChecker`).
 */

export type ValidateSsnResult =
  | { ok: true; ssn: string }
  | { ok: false; reason: 'format' | 'invalid_area' | 'invalid_group' | 'invalid_serial' };

// Nine digits, or 3-2-4 with the same separator (hyphen or space) in both places.
const SSN_PATTERN = /^(\d{3})([- ]?)(\d{2})\2(\d{4})$/;

/**
 * '123-45-6789', '123 45 6789' or '123456789' → '123456789'; anything else → undefined. Folded
 * with NFKC first, so full-width digits and hyphens (IME keyboards) read as the same number.
 */
export function normalizeSsn(input: string): string | undefined {
  if (typeof input !== 'string') return undefined;
  const m = SSN_PATTERN.exec(input.normalize('NFKC').trim());
  return m ? `${m[1]}${m[3]}${m[4]}` : undefined;
}

/** Normalizes, then applies the SSA's rules; the reason names the part that is impossible. */
export function validateSsn(input: string): ValidateSsnResult {
  const ssn = normalizeSsn(input);
  if (ssn === undefined) return { ok: false, reason: 'format' };
  const area = Number(ssn.slice(0, 3));
  if (area === 0 || area === 666 || area >= 900) return { ok: false, reason: 'invalid_area' };
  if (ssn.slice(3, 5) === '00') return { ok: false, reason: 'invalid_group' };
  if (ssn.slice(5) === '0000') return { ok: false, reason: 'invalid_serial' };
  return { ok: true, ssn };
}

/**
 * '123456789' (or any accepted format) → '***-**-6789'. Input that is not an SSN masks
 * completely, so a caller's mistake can never display a full number.
 */
export function maskSsn(input: string): string {
  const ssn = normalizeSsn(input);
  return ssn ? `***-**-${ssn.slice(5)}` : '***-**-****';
}
