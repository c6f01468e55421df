import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { type DelegationDeps, maintainDelegations } from '../delegation/manageDelegations.js';
import { revokeDelegation } from '../delegation/revokeDelegation.js';
import { logOutGrantSessions } from './logOutGrantSessions.js';
import type { EndReason } from '../delegation/representationKinds.js';
import { subjectIdOf } from '../delegation/policy.js';

/**
 * Ends a delegation with immediate effect: it is revoked (or expired) and everything issued under
 * it deleted (src/delegation), then every agency holding a live delegated session gets an OpenID
 * Connect back-channel logout naming the principal's subject and that session.
 */
export async function endDelegation(opts: { provider: Provider; ds: DataSource; deps: DelegationDeps; actorId: string | null; delegationId: string; reason?: EndReason; note?: string }): Promise<boolean> {
  const result = await opts.ds.transaction((db) => revokeDelegation({ ...opts.deps, db }, { actorId: opts.actorId, delegationId: opts.delegationId, ...(opts.reason ? { reason: opts.reason } : {}), ...(opts.note ? { note: opts.note } : {}) }));
  if (!result.ok) return false;
  const { delegation, grants } = result;
  const subjectId = subjectIdOf(delegation);
  if (!grants.length || !delegation.helperId || !subjectId) return true;
  await logOutGrantSessions({ provider: opts.provider, ds: opts.ds, sessionAccountId: delegation.helperId, subjectAccountId: subjectId, grants: new Map(grants.map((g) => [g.grantId, g.clientId])) });
  return true;
}

/** Periodic delegation housekeeping: reminders a week before the end, expiry (with logouts) at the end. */
export async function maintainDelegationsAndSessions(opts: { provider: Provider; ds: DataSource; deps: DelegationDeps }): Promise<{ reminded: number; expired: string[] }> {
  return maintainDelegations(opts.deps, {
    end: async (delegationId, reason) => { await endDelegation({ ...opts, actorId: null, delegationId, reason }); },
  });
}
