import { DelegatedGrant, Delegation, Representation } from '../../entities/index.js';
import { deleteGrants } from '../accounts/deleteGrants.js';
import { queueSecurityEvent } from '../audit/queueSecurityEvent.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';
import { mailTo, nameOf } from './delegationMail.js';
import type { DelegationDeps } from './manageDelegations.js';
import { subjectIdOf } from './policy.js';
import { recordDelegationEvent } from './recordDelegationEvent.js';
import { CONSENT, type EndReason, isRepresentationKind, REPRESENTATION_KINDS, statusForEnd } from './representationKinds.js';

const OPEN = ['invited', 'requested', 'pending', 'active'];

/**
 * Ends a delegation now — a helper's consent, or a legal authority — by either side, its source,
 * or the clock. Every grant issued under it is deleted with its codes, access and refresh tokens;
 * agencies where it was used get the `delegation-revoked` security event with the reason (a
 * table in docs/agencies.md); the caller (src/oidc) then ends the agencies' sessions.
 * `actorId` (when given) must be the principal or the helper. Returns the grants issued under it.
 */
export async function revokeDelegation(deps: DelegationDeps, opts: { actorId: string | null; delegationId: string; reason?: EndReason; note?: string }): Promise<{ ok: true; grants: DelegatedGrant[]; delegation: Delegation } | { ok: false; reason: 'not_found' }> {
  const repo = deps.db.getRepository(Delegation);
  const d = await repo.findOneBy({ id: opts.delegationId });
  if (!d || (opts.actorId && d.principalId !== opts.actorId && d.helperId !== opts.actorId)) return { ok: false, reason: 'not_found' };
  if (!OPEN.includes(d.status)) return { ok: true, grants: [], delegation: d };
  let reason: EndReason = opts.reason ?? 'revoked';
  // A legal authority's people end it as what they are: the representative steps down; the
  // represented person ends it only where its kind allows (a court's guardianship is the court's).
  if (d.basis !== CONSENT && opts.actorId) {
    if (opts.actorId === d.helperId) reason = 'stepped_down';
    else if (!isRepresentationKind(d.basis) || !REPRESENTATION_KINDS[d.basis].principalMayEnd) return { ok: false, reason: 'not_found' };
    else reason = 'ended_by_principal';
  }
  const status = statusForEnd(reason);
  const res = await repo.createQueryBuilder().update().set({ status, inviteHash: null, updatedAt: clock.now() })
    .where('id = :id AND status IN (:...open)', { id: d.id, open: OPEN }).execute();
  if (!res.affected) return { ok: true, grants: [], delegation: d };
  d.status = status;
  const representation = d.basis === CONSENT ? null : await deps.db.getRepository(Representation).findOneBy({ delegationId: d.id });
  if (representation) await deps.db.getRepository(Representation).update({ delegationId: d.id }, { endReason: reason });
  const grants = await deps.db.getRepository(DelegatedGrant).findBy({ delegationId: d.id });
  // Agencies where the delegation was used hold delegated sessions naming the principal: they hear of its end.
  const subjectId = subjectIdOf(d);
  if (subjectId && grants.length) {
    await queueSecurityEvent({ db: deps.db, accountId: subjectId, event: 'delegation_revoked', clientIds: grants.map((g) => g.clientId), details: { delegation_id: d.id, reason: d.basis === CONSENT ? status : reason } });
  }
  await deleteGrants({ db: deps.db, grantIds: grants.map((g) => g.grantId), withArtifacts: true });
  await recordDelegationEvent({ db: deps.db, delegationId: d.id, actorId: opts.actorId, type: status, details: d.basis === CONSENT ? {} : { reason, ...(opts.note ? { note: opts.note } : {}) } });
  for (const id of [d.principalId, d.helperId]) {
    if (!id) continue;
    await recordEvent({ db: deps.db, accountId: id, type: status === 'expired' ? 'delegation_expired' : 'delegation_revoked' });
    if (d.basis === CONSENT) {
      await mailTo(deps, { accountId: id }, status === 'expired' ? 'delegation_expired' : 'delegation_revoked', { principal: await nameOf(deps.db, d.principalId, d.inviteeEmail), helper: await nameOf(deps.db, d.helperId, d.inviteeEmail) });
    } else {
      await mailTo(deps, { accountId: id }, 'representation_ended', { kind: d.basis, reason });
    }
  }
  // The source hears of it where it gave an address (an agency's or the support team's).
  if (representation?.contactEmail) await mailTo(deps, { email: representation.contactEmail, senderLocale: 'en' }, 'representation_ended', { kind: d.basis, reason });
  return { ok: true, grants, delegation: d };
}
