import type { EntityManager } from 'typeorm';
import { type Delegation, Representation } from '../../entities/index.js';
import { mailTo } from './delegationMail.js';
import type { DelegationDeps } from './manageDelegations.js';
import { recordDelegationEvent } from './recordDelegationEvent.js';

/** How long before its review date (a parent's: the child's 18th birthday) a legal authority's people are told. */
export const REVIEW_REMINDER_DAYS = 30;

/**
 * Thirty days before a legal authority's review date, the representative and the source (where it
 * gave a contact address) are told once, so that it can be renewed before it ends. Only one
 * caller can send it (the row is claimed first).
 */
export async function remindRepresentationReview(deps: DelegationDeps & { db: EntityManager }, opts: { delegation: Delegation; now: Date }): Promise<boolean> {
  const repo = deps.db.getRepository(Representation);
  const r = await repo.findOneBy({ delegationId: opts.delegation.id });
  if (!r?.reviewAt || r.reviewRemindedAt || r.reviewAt.getTime() - opts.now.getTime() > REVIEW_REMINDER_DAYS * 86400_000) return false;
  const claimed = await repo.createQueryBuilder().update().set({ reviewRemindedAt: opts.now })
    .where('delegation_id = :id AND review_reminded_at IS NULL', { id: r.delegationId }).execute();
  if (!claimed.affected) return false;
  const params = { kind: r.kind, date: r.reviewAt.toISOString().slice(0, 10) };
  if (opts.delegation.helperId) await mailTo(deps, { accountId: opts.delegation.helperId }, 'representation_review', params);
  if (r.contactEmail) await mailTo(deps, { email: r.contactEmail, senderLocale: 'en' }, 'representation_review', params);
  await recordDelegationEvent({ db: deps.db, delegationId: r.delegationId, actorId: null, type: 'reminded', details: { review: params.date } });
  return true;
}
