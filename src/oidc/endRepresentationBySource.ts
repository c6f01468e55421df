import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { findRepresentation } from '../delegation/listRepresentations.js';
import type { DelegationDeps } from '../delegation/manageDelegations.js';
import { endDelegation } from './endDelegation.js';

/**
 * The source of a legal authority — operators, or the agency that registered it — ends it: at
 * once, as any revocation (reason `ended_by_source`). Nobody else's record is found.
 */
export async function endRepresentationBySource(opts: { provider: Provider; ds: DataSource; deps: DelegationDeps; id: string; source: string; note?: string }): Promise<'ended' | 'already_ended' | 'not_found'> {
  const found = await findRepresentation({ db: opts.ds.manager, id: opts.id });
  if (!found || found.delegation.source !== opts.source) return 'not_found';
  if (found.representation.endReason || !['pending', 'active'].includes(found.delegation.status)) return 'already_ended';
  await endDelegation({ provider: opts.provider, ds: opts.ds, deps: opts.deps, actorId: null, delegationId: found.delegation.id, reason: 'ended_by_source', ...(opts.note ? { note: opts.note } : {}) });
  return 'ended';
}
