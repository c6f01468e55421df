import type { IdDocument } from '../proofing/documents/parseAamva.js';
import type { VerifiedIdentity } from '../proofing/verifiedProfiles.js';

/**
 * OpenID Connect for Identity Assurance 1.0 (`verified_claims`), as tables: what the release
 * carries and what discovery announces both come from here, so they cannot drift apart.
 */

/** NIST SP 800-63A, the framework OneDoor's identity proofing follows. */
export const TRUST_FRAMEWORK = 'nist_800_63A';

/** How each identity is verified: an identity document (OIDC4IA evidence type). */
export const EVIDENCE_TYPE = 'document';

/** The documents proofing accepts (AAMVA licences and state IDs), by OIDC4IA document type. */
export const IDA_DOCUMENT_TYPES: Readonly<Record<IdDocument['documentType'], string>> = {
  drivers_license: 'driving_permit',
  state_id: 'idcard',
};

type Claims = Record<string, unknown>;

/** OIDC Core §5.1.1 address claim from a verified address. */
export function addressClaim(a: VerifiedIdentity['address']): Claims {
  const street = [a.street1, a.street2].filter(Boolean).join('\n');
  return { formatted: `${street}\n${a.city}, ${a.state} ${a.postalCode}`, street_address: street, locality: a.city, region: a.state, postal_code: a.postalCode, country: 'US' };
}

/** The claims `verified_claims` can carry, and where each comes from in the verified identity. */
const VERIFIED_CLAIMS: Readonly<Record<string, (identity: VerifiedIdentity) => unknown>> = {
  given_name: (i) => i.givenName,
  middle_name: (i) => i.middleName,
  family_name: (i) => i.familyName,
  birthdate: (i) => i.birthdate,
  address: (i) => addressClaim(i.address),
};

/** The OIDC4IA discovery metadata (OIDC4IA 1.0 §9). */
export function verifiedClaimsDiscovery() {
  return {
    verified_claims_supported: true,
    trust_frameworks_supported: [TRUST_FRAMEWORK],
    evidence_supported: [EVIDENCE_TYPE],
    documents_supported: [...new Set(Object.values(IDA_DOCUMENT_TYPES))],
    claims_in_verified_claims_supported: Object.keys(VERIFIED_CLAIMS),
  };
}

/**
 * `verified_claims` for one release: the verified identity with how it was verified (NIST SP
 * 800-63A IAL2, the document as evidence). Only the claims the agency asked for inside
 * `verified_claims.claims` are included (all of them when it named none); a claim the identity
 * does not have (no middle name) is left out.
 */
export function verifiedClaims(identity: VerifiedIdentity, request: unknown): Claims {
  const wanted = (request as { claims?: Record<string, unknown> } | null)?.claims;
  const names = Object.keys(VERIFIED_CLAIMS).filter((name) => !wanted || typeof wanted !== 'object' || name in wanted);
  const claims = Object.fromEntries(names.map((name) => [name, VERIFIED_CLAIMS[name]!(identity)]).filter(([, value]) => value !== undefined && value !== ''));
  return {
    verification: {
      trust_framework: TRUST_FRAMEWORK,
      assurance_level: 'ial2',
      time: identity.verification.time,
      evidence: [{
        type: EVIDENCE_TYPE,
        check_details: [{ check_method: 'vpip' }, { check_method: 'data', organization: 'records' }, ...(identity.verification.facialMatch ? [{ check_method: 'vcrypt' }] : [])],
        document_details: {
          type: IDA_DOCUMENT_TYPES[identity.document.type] ?? 'idcard',
          document_number: identity.document.number,
          issuer: { jurisdiction: identity.document.issuer, country_code: identity.document.country === 'CAN' ? 'CAN' : 'USA' },
          date_of_issuance: identity.document.issueDate,
          date_of_expiry: identity.document.expirationDate,
        },
      }],
    },
    claims,
  };
}
