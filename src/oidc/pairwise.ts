import { hmac } from '../shared/ids.js';

/** The subject an agency sees: stable per (sector, account), unlinkable across sectors. */
export function pairwiseSubject(salt: string, sectorIdentifier: string, accountId: string): string {
  return hmac(salt, `${sectorIdentifier}|${accountId}`);
}
