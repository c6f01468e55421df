import type { DataSource } from 'typeorm';
import { Account, Delegation } from '../../entities/index.js';
import { sqlDialect } from '../shared/sqlValues.js';
import { isActive, parseList } from '../delegation/policy.js';
import { clock } from '../shared/clock.js';
import { pairwiseSubject } from './pairwise.js';

export interface DelegatedContext {
  delegation: Delegation;
  principal: Account;
}

/**
 * The delegation an oidc-provider grant acts under, when it is one and still active (read from
 * the database every time: revocation and expiry take effect at once). `undefined` for an
 * ordinary grant; `null` for a delegated grant that may no longer be used.
 */
export async function delegationOfGrant(ds: DataSource, grantId: string | undefined, linkOf: (grantId: string) => Promise<string | undefined> = (id) => delegationLinkOf(ds, id)): Promise<DelegatedContext | null | undefined> {
  if (!grantId) return undefined;
  const delegationId = await linkOf(grantId);
  if (!delegationId) return undefined;
  const delegation = await ds.getRepository(Delegation).findOneBy({ id: delegationId });
  if (!delegation || !isActive(delegation, clock.now()) || !delegation.principalId) return null;
  const principal = await ds.getRepository(Account).findOneBy({ id: delegation.principalId });
  if (!principal || principal.status !== 'active') return null;
  return { delegation, principal };
}

/** The delegation a grant was made under, if any. Asked on every token use; most grants are not delegated, so it is cheap SQL. */
export async function delegationLinkOf(ds: DataSource, grantId: string): Promise<string | undefined> {
  const { q } = sqlDialect(ds);
  const link = ((await ds.query(`SELECT ${q('delegation_id')} AS ${q('delegationId')} FROM ${q('delegated_grants')} WHERE ${q('grant_id')} = ?`, [grantId])) as Array<{ delegationId: string }>)[0];
  return link?.delegationId;
}

/** The claims that say "the helper acts for the principal" (RFC 8693 `act`, plus OneDoor's `delegation`). */
export function delegationClaims(opts: { salt: string; sectorIdentifier: string; delegated: DelegatedContext }) {
  const { delegation } = opts.delegated;
  return {
    act: { sub: pairwiseSubject(opts.salt, opts.sectorIdentifier, delegation.helperId!) },
    delegation: { id: delegation.id, scopes: parseList(delegation.scopes), expires_at: Math.floor(delegation.endsAt.getTime() / 1000) },
  };
}
