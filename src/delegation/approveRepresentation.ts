import type { EntityManager } from 'typeorm';
import { Delegation, Representation } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { recordDelegationEvent } from './recordDelegationEvent.js';

export type ApproveRepresentationResult = { ok: true; delegation: Delegation } | { ok: false; reason: 'not_found' | 'not_pending' | 'same_operator' };

/**
 * The four-eyes rule: an authority an operator recorded takes effect only when a second operator,
 * not the one who recorded it, approves it. Only one approval can win.
 */
export async function approveRepresentation(opts: { db: EntityManager; delegationId: string; by: string }): Promise<ApproveRepresentationResult> {
  const d = await opts.db.getRepository(Delegation).findOneBy({ id: opts.delegationId });
  const r = d ? await opts.db.getRepository(Representation).findOneBy({ delegationId: d.id }) : null;
  if (!d || !r) return { ok: false, reason: 'not_found' };
  if (d.status !== 'pending') return { ok: false, reason: 'not_pending' };
  const by = opts.by.trim();
  if (by.toLowerCase() === r.recordedBy.trim().toLowerCase()) return { ok: false, reason: 'same_operator' };
  const res = await opts.db.getRepository(Delegation).createQueryBuilder().update().set({ status: 'active', updatedAt: clock.now() })
    .where('id = :id AND status = :s', { id: d.id, s: 'pending' }).execute();
  if (!res.affected) return { ok: false, reason: 'not_pending' };
  await opts.db.getRepository(Representation).update({ delegationId: d.id }, { approvedBy: by });
  await recordDelegationEvent({ db: opts.db, delegationId: d.id, actorId: null, type: 'approved', details: { by } });
  d.status = 'active';
  return { ok: true, delegation: d };
}
