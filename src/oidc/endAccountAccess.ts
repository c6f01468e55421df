import type Provider from 'oidc-provider';
import { In, type DataSource } from 'typeorm';
import { Delegation } from '../../entities/index.js';
import { revokeAllGrants } from '../accounts/revokeAllGrants.js';
import type { DelegationDeps } from '../delegation/manageDelegations.js';
import { endAllSessions } from './accountSessions.js';
import { endDelegation } from './endDelegation.js';

export interface EndAccountAccessResult {
  delegations: number;
  sessions: number;
  grants: number;
}

/**
 * Everything an account could still use stops now: its delegations both ways end as if revoked
 * (history, mail to the other person, back-channel logout of delegated sessions), every session
 * ends with a back-channel logout to each agency that registered one, and every consent, code
 * and token is deleted. Works from any process on the shared database (the operator's command
 * builds a provider only to sign logout tokens). The account itself is left as it is.
 */
export async function endAccountAccess(opts: { provider: Provider; ds: DataSource; deps: DelegationDeps; accountId: string }): Promise<EndAccountAccessResult> {
  const open = await opts.ds.getRepository(Delegation).find({
    where: [{ principalId: opts.accountId, status: In(['invited', 'requested', 'active']) }, { helperId: opts.accountId, status: In(['invited', 'requested', 'active']) }],
    select: { id: true },
  });
  for (const d of open) await endDelegation({ provider: opts.provider, ds: opts.ds, deps: opts.deps, actorId: null, delegationId: d.id });
  const sessions = await endAllSessions({ provider: opts.provider, ds: opts.ds, accountId: opts.accountId });
  const grants = await opts.ds.transaction((db) => revokeAllGrants({ db, accountId: opts.accountId }));
  return { delegations: open.length, sessions, grants };
}
