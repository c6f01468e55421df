import type { DataSource } from 'typeorm';
import type { Account } from '../../entities/index.js';
import { aalFromAmr } from '../proofing/levels.js';
import { profileState, readVerifiedIdentity } from '../proofing/verifiedProfiles.js';
import type { Kek } from '../proofing/vault.js';
import { ACR_TABLE } from './acr.js';
import { IAL2_SCOPES, IDENTITY_CLAIMS } from './claims.js';
import { addressClaim, verifiedClaims } from './verifiedClaims.js';

const IAL_URI = (n: number) => `http://idmanagement.gov/ns/assurance/ial/${n}`;
const AAL_URI = (n: number) => `http://idmanagement.gov/ns/assurance/aal/${n}`;

type Claims = Record<string, unknown>;

/**
 * The claims OneDoor can release about an account for one authorization. `ial` and `aal`
 * describe that authorization (from its acr and amr); verified identity data is added only when
 * it reached IAL2 and something identity-related was asked for (the profile is decrypted then
 * and only then). oidc-provider then keeps only what the granted scopes and claims allow.
 */
export async function accountClaims(opts: {
  ds: DataSource; kek: Kek; account: Account; acr: string | undefined; amr: string[] | undefined; scope?: string; requested: Record<string, unknown> | undefined;
  /** The profile state, when the caller already has it (or memoizes it per request). */
  profile?: () => ReturnType<typeof profileState>;
}): Promise<Claims> {
  const { account } = opts;
  const ial = ialOf(opts.acr);
  const claims: Claims = {
    sub: account.id, email: account.email, email_verified: true, all_emails: [account.email], locale: account.locale,
    ...representedClaims(opts),
  };
  const profile = await (opts.profile ? opts.profile() : profileState({ db: opts.ds.manager, accountId: account.id }));
  claims['verified_at'] = profile.verifiedAt ? Math.floor(profile.verifiedAt.getTime() / 1000) : null;
  if (ial < 2) return claims;
  // Decrypt the verified identity only when this release can contain part of it.
  const scopes = (opts.scope ?? '').split(' ');
  const wanted = IAL2_SCOPES.some((s) => scopes.includes(s)) || Object.keys(opts.requested ?? {}).some((c) => IDENTITY_CLAIMS.includes(c));
  if (!wanted) return claims;
  const read = await readVerifiedIdentity({ db: opts.ds.manager, kek: opts.kek, accountId: account.id });
  if (!read) return claims;
  const { identity } = read;
  Object.assign(claims, {
    given_name: identity.givenName, family_name: identity.familyName, birthdate: identity.birthdate,
    address: addressClaim(identity.address), social_security_number: identity.ssn,
    ...(identity.phone ? { phone: identity.phone, phone_verified: true } : {}),
  });
  if (opts.requested && 'verified_claims' in opts.requested) claims['verified_claims'] = verifiedClaims(identity, opts.requested['verified_claims']);
  return claims;
}

/** What describes an authorization (`ial`, `aal`): all there is for a represented person without an account. */
export function representedClaims(opts: { acr: string | undefined; amr: string[] | undefined }): Claims {
  return { ial: IAL_URI(ialOf(opts.acr)), aal: AAL_URI(aalFromAmr(opts.amr)) };
}

/** The identity assurance level an acr value stands for (1 for none or an unknown one). */
const ialOf = (acr: string | undefined): number => (acr && ACR_TABLE[acr]?.ial) || 1;
