import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { Account, Delegation } from '../../entities/index.js';
import { intersectScopes, parseList } from '../delegation/policy.js';
import { recordDelegatedSignIn } from '../delegation/recordDelegatedSignIn.js';

/** The claim names a `claims` request parameter (OIDC Core §5.5) asks for, in ID token and userinfo. */
export function requestedClaimNames(claimsParam: unknown): string[] {
  if (typeof claimsParam !== 'string' || !claimsParam) return [];
  const parsed = JSON.parse(claimsParam) as { id_token?: object; userinfo?: object };
  return [...new Set([...Object.keys(parsed.userinfo ?? {}), ...Object.keys(parsed.id_token ?? {})])];
}

/**
 * The grant a helper gets when they act for someone under a delegation — signing in at an agency
 * in the browser, or approving its phone request. The delegation is the principal's consent: the
 * grant holds exactly what was asked ∩ what the client may have ∩ what the delegation allows, and
 * rejects everything else the agency asked for (so nobody is asked to consent to it). It is the
 * helper's grant in oidc-provider's eyes, linked to the delegation in `delegated_grants`: it is
 * never found as the helper's own (DESIGN.md), and every token from it is checked against the
 * delegation at each use.
 */
export async function grantForDelegation(opts: {
  provider: Provider; ds: DataSource; helperId: string; clientId: string;
  chosen: { delegation: Delegation; principal: Account | null };
  requestedScopes: string[]; requestedClaims: string[]; channel: 'browser' | 'phone';
}): Promise<{ grantId: string; scopes: string[] }> {
  const { provider, ds, helperId, clientId, chosen } = opts;
  const client = await provider.Client.find(clientId);
  const clientAllowed = (client?.scope ?? '').split(' ').filter(Boolean);
  const scopes = intersectScopes({ requested: opts.requestedScopes, clientAllowed, delegated: parseList(chosen.delegation.scopes) });
  const grant = new provider.Grant({ accountId: helperId, clientId });
  grant.addOIDCScope(scopes.join(' '));
  const rejected = opts.requestedScopes.filter((s) => !scopes.includes(s));
  if (rejected.length) grant.rejectOIDCScope(rejected.join(' '));
  if (opts.requestedClaims.length) grant.rejectOIDCClaims(opts.requestedClaims);
  const grantId = await grant.save();
  await ds.transaction((db) => recordDelegatedSignIn({ db, delegationId: chosen.delegation.id, grantId, clientId, helperId, principalId: chosen.principal?.id ?? null, scopes, channel: opts.channel }));
  return { grantId, scopes };
}
