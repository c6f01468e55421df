import type { EntityManager } from 'typeorm';
import { DelegatedGrant } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';
import { recordDelegationEvent } from './recordDelegationEvent.js';

/**
 * A helper signed in at an agency for the person they help — in the browser, or by approving an
 * agency's phone request (`channel: 'phone'`): the grant issued for it is linked to the delegation
 * (so every token from it is checked against the delegation at each use), and both histories
 * record it. Call it in a transaction.
 */
export async function recordDelegatedSignIn(opts: { db: EntityManager; delegationId: string; grantId: string; clientId: string; helperId: string; principalId: string | null; scopes: string[]; channel?: 'browser' | 'phone' }): Promise<void> {
  const phone = opts.channel === 'phone';
  await opts.db.getRepository(DelegatedGrant).insert({ grantId: opts.grantId, delegationId: opts.delegationId, clientId: opts.clientId, createdAt: clock.now() });
  await recordDelegationEvent({ db: opts.db, delegationId: opts.delegationId, actorId: opts.helperId, type: phone ? 'confirmed_by_phone' : 'signed_in', clientId: opts.clientId, details: { scopes: opts.scopes } });
  if (opts.principalId) await recordEvent({ db: opts.db, accountId: opts.principalId, type: 'delegation_used', clientId: opts.clientId, details: { kind: phone ? 'phone' : 'sign_in', scopes: opts.scopes.join(' ') } });
}
