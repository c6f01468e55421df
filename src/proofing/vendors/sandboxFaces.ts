import { type FacialMatcher, VendorUnavailable } from './ports.js';

const TIMEOUT = Buffer.from('TIMEOUT', 'ascii');
const NOMATCH = Buffer.from('NOMATCH', 'ascii');

/**
 * Sandbox face match, decided by the selfie's bytes (append the marker to any image):
 * containing `TIMEOUT` → VendorUnavailable; containing `NOMATCH` → no_match; otherwise ok.
 * TIMEOUT wins when both are present.
 */
export function createSandboxFaces(): FacialMatcher {
  return {
    async match(input) {
      if (input.selfie.includes(TIMEOUT)) throw new VendorUnavailable('sandbox face match: timed out (selfie contains TIMEOUT)');
      if (input.selfie.includes(NOMATCH)) return { ok: false, reason: 'no_match' };
      return { ok: true };
    },
  };
}
