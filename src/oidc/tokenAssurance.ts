import type { KoaContextWithOIDC } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { ialFromProfile } from '../proofing/levels.js';
import { clock } from '../shared/clock.js';
import { ACR_TABLE } from './acr.js';
import { profileOf } from './assurancePolicy.js';

/**
 * Where an authorization's `verified_within` travels with its code, access and refresh tokens:
 * oidc-provider copies the request's `claims` object (RFC/OIDC Core §5.5, plus the acr values it
 * adds) into each token it issues from the authorization, and reads only its `id_token`,
 * `userinfo` and `rejected` members, so OneDoor keeps its own member beside them.
 */
export const ASSURANCE_CLAIMS_MEMBER = 'urn:onedoor:assurance';

/** Records, in the authorization's claims, what every later token use must check again. */
export function carryVerifiedWithin(ctx: KoaContextWithOIDC, verifiedWithinSeconds: number | undefined): void {
  const claims = ctx.oidc.claims as Record<string, unknown>;
  if (verifiedWithinSeconds === undefined) delete claims[ASSURANCE_CLAIMS_MEMBER];
  else claims[ASSURANCE_CLAIMS_MEMBER] = { verified_within: verifiedWithinSeconds };
}

/** A code, access token or refresh token: the acr it was issued with and the claims it carries. */
interface IssuedToken {
  acr?: string;
  extra?: { acr?: string };
  claims?: Record<string, unknown>;
}

/** The acr a token was issued with (access tokens keep it in their extra claims). */
export function acrOfToken(token: IssuedToken): string | undefined {
  return token.extra?.acr ?? token.acr;
}

/**
 * Does the identity assurance a token claims still hold now? An IAL2 token (acr) is usable only
 * while every person it stands for — the account, and under a delegation the principal too —
 * has an active verified identity that meets it now: not deleted, not set aside after an account
 * recovery, recent enough for the authorization's `verified_within`, with a facial match when the
 * acr says so. IAL1 tokens are not affected. Answered from the request's memo of each profile.
 */
export async function tokenAssuranceHolds(opts: { ctx: object | undefined; ds: DataSource; token: IssuedToken; accountIds: string[] }): Promise<boolean> {
  const requirement = ACR_TABLE[acrOfToken(opts.token) ?? ''];
  if (!requirement?.ial || requirement.ial < 2) return true;
  const carried = opts.token.claims?.[ASSURANCE_CLAIMS_MEMBER] as { verified_within?: unknown } | undefined;
  const verifiedWithinSeconds = typeof carried?.verified_within === 'number' ? carried.verified_within : undefined;
  for (const accountId of opts.accountIds) {
    const profile = await profileOf(opts.ctx, opts.ds, accountId);
    if (ialFromProfile(profile, { now: clock.now(), verifiedWithinSeconds, facialMatchRequired: requirement.facialMatch }) < 2) return false;
  }
  return true;
}
