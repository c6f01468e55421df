import { type RecordsChecker, VendorUnavailable } from './ports.js';

/**
 * Sandbox records check, decided by the SSN's serial (last four digits): `9999` → no_match,
 * `8888` → deceased, `7777` → VendorUnavailable; anything else → ok.
 */
export function createSandboxRecords(): RecordsChecker {
  return {
    async check(input) {
      // A contract check, not a vendor outcome: callers normalize first (ssn.ts).
      if (!/^\d{9}$/.test(input.ssn)) throw new TypeError('records check: ssn must be 9 digits');
      switch (input.ssn.slice(5)) {
        case '7777': throw new VendorUnavailable('sandbox records check: timed out (SSN serial 7777)');
        case '9999': return { ok: false, reason: 'no_match' };
        case '8888': return { ok: false, reason: 'deceased' };
        default: return { ok: true };
      }
    },
  };
}
