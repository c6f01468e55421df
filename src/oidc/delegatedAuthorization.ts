import type { DataSource } from 'typeorm';
import { Account, Delegation, Representation } from '../../entities/index.js';
import { sqlDialect } from '../shared/sqlValues.js';
import { isActive, parseList, subjectIdOf } from '../delegation/policy.js';
import { CONSENT } from '../delegation/representationKinds.js';
import { representativeMatches } from '../delegation/representativeMatches.js';
import type { Kek } from '../proofing/vault.js';
import { clock } from '../shared/clock.js';
import { subjectAt } from './subjectAt.js';

export interface DelegatedContext {
  delegation: Delegation;
  /** The person helped, when they have an account; null for a represented person without one. */
  principal: Account | null;
  /** Whom the agency knows as the person helped (their pairwise subject's input). */
  subjectId: string;
}

/** What checking a legal authority at each use needs: the vault (the representative's identity), and whether the agency accepts its basis now. */
export interface AuthorityCheck {
  kek: Kek;
  pepper: string;
  accepts(basis: string): boolean;
}

/**
 * The delegation an oidc-provider grant acts under, when it is one and still active (read from
 * the database every time: revocation and expiry take effect at once). `undefined` for an
 * ordinary grant; `null` for a delegated grant that may no longer be used. A legal authority
 * also needs its representative verified as the record names them, and the agency still
 * accepting its basis (without `check`, it is never usable).
 */
export async function delegationOfGrant(ds: DataSource, grantId: string | undefined, linkOf: (grantId: string) => Promise<string | undefined> = (id) => delegationLinkOf(ds, id), check?: AuthorityCheck): Promise<DelegatedContext | null | undefined> {
  if (!grantId) return undefined;
  const delegationId = await linkOf(grantId);
  if (!delegationId) return undefined;
  const delegation = await ds.getRepository(Delegation).findOneBy({ id: delegationId });
  if (!delegation || !isActive(delegation, clock.now())) return null;
  let principal: Account | null = null;
  if (delegation.principalId) {
    principal = await ds.getRepository(Account).findOneBy({ id: delegation.principalId });
    if (!principal || principal.status !== 'active') return null;
  } else if (delegation.basis === CONSENT || !delegation.representedPersonId) return null;
  if (delegation.basis !== CONSENT) {
    if (!check?.accepts(delegation.basis)) return null;
    const representation = await ds.getRepository(Representation).findOneBy({ delegationId });
    if (!representation || !(await representativeMatches({ db: ds.manager, kek: check.kek, pepper: check.pepper, helperId: delegation.helperId!, representation }))) return null;
  }
  return { delegation, principal, subjectId: subjectIdOf(delegation)! };
}

/** The delegation a grant was made under, if any. Asked on every token use; most grants are not delegated, so it is cheap SQL. */
export async function delegationLinkOf(ds: DataSource, grantId: string): Promise<string | undefined> {
  const { q } = sqlDialect(ds);
  const link = ((await ds.query(`SELECT ${q('delegation_id')} AS ${q('delegationId')} FROM ${q('delegated_grants')} WHERE ${q('grant_id')} = ?`, [grantId])) as Array<{ delegationId: string }>)[0];
  return link?.delegationId;
}

/**
 * The claims that say "the helper acts for the principal" (RFC 8693 `act`, plus OneDoor's
 * `delegation`): its basis — `consent` or the kind of legal authority — and, for an authority,
 * its source (`operator` or the registering agency's client id).
 */
export function delegationClaims(opts: { salt: string; sectorIdentifier: string; delegated: DelegatedContext; helper: Pick<Account, 'subjectAliases'> | null | undefined }) {
  const { delegation } = opts.delegated;
  return {
    // The helper as this agency knows them: their account may have taken over a joined profile's subject.
    act: { sub: subjectAt({ salt: opts.salt, sector: opts.sectorIdentifier, id: delegation.helperId!, account: opts.helper }) },
    delegation: {
      id: delegation.id, scopes: parseList(delegation.scopes), expires_at: Math.floor(delegation.endsAt.getTime() / 1000), basis: delegation.basis,
      ...(delegation.basis !== CONSENT && delegation.source ? { source: delegation.source } : {}),
    },
  };
}
