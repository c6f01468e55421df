import { hmac } from '../shared/ids.js';

/** A name as documents and verified identities may spell it differently: case, accents, spacing, hyphens. */
export function normalizeName(name: string): string {
  return name.normalize('NFKD').replace(/\p{M}/gu, '').toUpperCase().replace(/[\s\-‐‑'’.]+/gu, ' ').trim();
}

/**
 * A keyed hash of a person's given name, family name and birth date (YYYY-MM-DD): the same for
 * the same person however the names are cased or accented, and useless without the pepper. A
 * legal authority names its representative this way, and a represented profile is found by it.
 */
export function identityMatchKey(opts: { pepper: string; givenName: string; familyName: string; birthdate: string }): string {
  return hmac(opts.pepper, `identity-match:${normalizeName(opts.givenName)}|${normalizeName(opts.familyName)}|${opts.birthdate}`);
}

/** The aad sealing a legal authority's record, and a represented person's name and birth date (src/proofing/vault.ts). */
export const representationAad = (delegationId: string) => `representation:${delegationId}`;
export const representedPersonAad = (id: string) => `represented-person:${id}`;
