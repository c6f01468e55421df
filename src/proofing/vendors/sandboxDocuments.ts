import { type DocumentAuthenticator, VendorUnavailable } from './ports.js';

/**
 * Sandbox document authentication, decided by the document number alone (case-insensitive):
 * ending in `FAIL` → failed; ending in `TIMEOUT` → VendorUnavailable; anything else → ok.
 * The images are not inspected.
 */
export function createSandboxDocuments(): DocumentAuthenticator {
  return {
    async authenticate(input) {
      const number = input.documentNumber.trim().toUpperCase();
      if (number.endsWith('TIMEOUT')) throw new VendorUnavailable('sandbox document authenticator: timed out (document number ends in TIMEOUT)');
      if (number.endsWith('FAIL')) return { ok: false, reason: 'failed' };
      return { ok: true };
    },
  };
}
