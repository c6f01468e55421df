/**
 * Ports for the identity-proofing vendors (DESIGN.md, style rule 7; Login.gov
 * `app/services/proofing/`). Domain code depends on these interfaces only; `createVendors`
 * picks the implementation from PROOFING_VENDOR. Expected outcomes are results; a vendor that
 * is down or slow throws `VendorUnavailable`.
 */

/** Timeouts and vendor errors: nothing is written, the person may retry. */
export class VendorUnavailable extends Error {
  override name = 'VendorUnavailable';
}

export interface PersonRecord {
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD */
  dateOfBirth: string;
  /** 9 digits */
  ssn: string;
  address: { street1: string; street2?: string; city: string; state: string; postalCode: string };
}

/** Checks that an identity document is genuine (images, barcode, security features). */
export interface DocumentAuthenticator {
  authenticate(input: { front: Buffer; back: Buffer; documentNumber: string; expirationDate: string }): Promise<{ ok: true } | { ok: false; reason: 'failed' }>;
}

/** Checks the claimed identity against authoritative records (e.g. SSA, DMV, credit header). */
export interface RecordsChecker {
  check(input: PersonRecord): Promise<{ ok: true } | { ok: false; reason: 'no_match' | 'deceased' }>;
}

export interface SmsSender {
  /** `phone` in E.164, e.g. +12025550142. */
  send(input: { phone: string; text: string }): Promise<void>;
}

/** Postal mail, for address verification by a code sent to the address of record. */
export interface LetterSender {
  send(input: { name: string; address: PersonRecord['address']; text: string }): Promise<void>;
}

/** Compares a live selfie with the portrait on the document (IAL2 biometric comparison): `documentFront` is always the front that passed the document check. */
export interface FacialMatcher {
  match(input: { selfie: Buffer; documentFront: Buffer }): Promise<{ ok: true } | { ok: false; reason: 'no_match' }>;
}

export interface ProofingVendors {
  documents: DocumentAuthenticator;
  records: RecordsChecker;
  sms: SmsSender;
  letters: LetterSender;
  faces: FacialMatcher;
}
