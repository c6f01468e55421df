import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { OidcPayload } from '../../entities/index.js';
import { type DelegationDeps, maintainDelegations, revokeDelegation } from '../delegation/manageDelegations.js';
import { logger } from '../shared/logger.js';

/**
 * Ends a delegation with immediate effect: it is revoked (or expired) and everything issued under
 * it deleted (src/delegation), then every agency holding a live delegated session gets an OpenID
 * Connect back-channel logout naming the principal's subject and that session.
 */
export async function endDelegation(opts: { provider: Provider; ds: DataSource; deps: DelegationDeps; actorId: string | null; delegationId: string; reason?: 'revoked' | 'expired' }): Promise<boolean> {
  const result = await opts.ds.transaction((db) => revokeDelegation({ ...opts.deps, db }, { actorId: opts.actorId, delegationId: opts.delegationId, reason: opts.reason }));
  if (!result.ok) return false;
  const { delegation, grants } = result;
  if (!grants.length || !delegation.helperId || !delegation.principalId) return true;
  const sessions = await opts.ds.getRepository(OidcPayload).findBy({ model: 'Session', accountId: delegation.helperId });
  const byGrant = new Map(grants.map((g) => [g.grantId, g.clientId]));
  const notices: Array<Promise<void>> = [];
  for (const row of sessions) {
    const payload = JSON.parse(row.payload) as { authorizations?: Record<string, { sid?: string; grantId?: string }> };
    for (const [clientId, auth] of Object.entries(payload.authorizations ?? {})) {
      if (!auth.grantId || byGrant.get(auth.grantId) !== clientId || !auth.sid) continue;
      notices.push((async () => {
        const client = await opts.provider.Client.find(clientId);
        if (!client?.backchannelLogoutUri) return;
        await (client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }).backchannelLogout(delegation.principalId!, auth.sid!);
      })().catch((err: Error) => { logger.warn({ clientId, error: err.name }, 'back-channel logout failed'); }));
    }
  }
  await Promise.all(notices);
  return true;
}

/** Periodic delegation housekeeping: reminders a week before the end, expiry (with logouts) at the end. */
export async function maintainDelegationsAndSessions(opts: { provider: Provider; ds: DataSource; deps: DelegationDeps }): Promise<{ reminded: number; expired: string[] }> {
  return maintainDelegations(opts.deps, {
    end: async (delegationId) => { await endDelegation({ ...opts, actorId: null, delegationId, reason: 'expired' }); },
  });
}
