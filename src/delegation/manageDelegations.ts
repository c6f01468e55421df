import { randomUUID } from 'node:crypto';
import { IsNull, type EntityManager } from 'typeorm';
import { Account, Delegation, DelegationEvent, Representation } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';
import type { Translate } from '../shared/i18n.js';
import { hmac, isReadableCode, normalizeReadableCode, randomReadableCode } from '../shared/ids.js';
import type { Mailer } from '../shared/mailer.js';
import { listDelegationAgencies } from './listDelegationAgencies.js';
import { ALL_AGENCIES, DELEGATION_RULES, isActive, parseList } from './policy.js';
import { mailTo, nameOf } from './delegationMail.js';
import { remindRepresentationReview } from './remindRepresentationReview.js';
import { revokeDelegation } from './revokeDelegation.js';
import { CONSENT, type EndReason, REPRESENTATION_KINDS, isRepresentationKind } from './representationKinds.js';
import { recordDelegationEvent } from './recordDelegationEvent.js';

export interface DelegationTerms {
  clientIds: string[];
  scopes: string[];
  endsAt: Date;
}

export interface DelegationDeps {
  db: EntityManager;
  mailer: Mailer;
  /** Translations for mail, in the recipient's language. */
  t: (locale: string) => Translate;
  pepper: string;
  issuer: string;
}

export type TermsProblem = 'no_agencies' | 'no_scopes' | 'scope_not_delegable' | 'ends_too_soon' | 'ends_too_late';

/** Checks terms against the rules; `agencies` are the clients that enabled delegation. */
export function checkTerms(terms: DelegationTerms, agencies: readonly string[], now = clock.now()): TermsProblem | undefined {
  if (terms.clientIds.length === 0 || terms.clientIds.some((c) => c !== ALL_AGENCIES && !agencies.includes(c))) return 'no_agencies';
  if (terms.scopes.length === 0) return 'no_scopes';
  if (terms.scopes.some((s) => !(DELEGATION_RULES.delegableScopes as readonly string[]).includes(s))) return 'scope_not_delegable';
  if (terms.endsAt.getTime() <= now.getTime() + 3600 * 1000) return 'ends_too_soon';
  if (terms.endsAt.getTime() > now.getTime() + DELEGATION_RULES.maxDurationDays * 86400 * 1000) return 'ends_too_late';
  return undefined;
}

const inviteHash = (pepper: string, code: string) => hmac(pepper, `delegation-invite:${normalizeReadableCode(code)}`);

/**
 * A principal invites a helper by email. The invitation carries a single-use code (stored only as
 * a keyed hash, valid 7 days) that the helper enters after signing in or signing up.
 */
export async function inviteHelper(deps: DelegationDeps, opts: { principalId: string; helperEmail: string; terms: DelegationTerms }): Promise<{ ok: true; delegation: Delegation } | { ok: false; reason: 'self' }> {
  const principal = await deps.db.getRepository(Account).findOneByOrFail({ id: opts.principalId });
  if (principal.email === opts.helperEmail.trim().toLowerCase()) return { ok: false, reason: 'self' };
  const code = randomReadableCode(3, 4);
  const now = clock.now();
  const d = deps.db.getRepository(Delegation).create({
    id: randomUUID(), principalId: opts.principalId, helperId: null, inviteeEmail: opts.helperEmail, initiatedBy: 'principal', status: 'invited',
    clientIds: JSON.stringify(opts.terms.clientIds), scopes: JSON.stringify(opts.terms.scopes), startsAt: now, endsAt: opts.terms.endsAt,
    inviteHash: inviteHash(deps.pepper, code), inviteExpiresAt: new Date(now.getTime() + DELEGATION_RULES.inviteTtlSeconds * 1000),
    remindedAt: null, firstUsedAt: null, createdAt: now, updatedAt: now,
  });
  await deps.db.getRepository(Delegation).insert(d);
  await recordDelegationEvent({ db: deps.db, delegationId: d.id, actorId: opts.principalId, type: 'invited', details: { scopes: opts.terms.scopes, clients: opts.terms.clientIds } });
  await recordEvent({ db: deps.db, accountId: opts.principalId, type: 'delegation_invited' });
  await mailTo(deps, { email: opts.helperEmail, senderLocale: principal.locale }, 'delegation_invite', { principal: principal.email, code, days: DELEGATION_RULES.inviteTtlSeconds / 86400 });
  return { ok: true, delegation: d };
}

/** The invitation a code opens, if it is still open, for the helper to read before answering. */
export async function findInvitation(deps: Pick<DelegationDeps, 'db' | 'pepper'>, opts: { code: string }): Promise<Delegation | undefined> {
  if (!isInvitationCodeShape(opts.code)) return undefined;
  const code = normalizeReadableCode(opts.code);
  const d = await deps.db.getRepository(Delegation).findOneBy({ inviteHash: inviteHash(deps.pepper, code) });
  if (!d || d.status !== 'invited' || !d.inviteExpiresAt || d.inviteExpiresAt.getTime() <= clock.nowMs()) return undefined;
  return d;
}

/** Whether what a person typed could be an invitation code at all (before anything counts it as a try). */
export function isInvitationCodeShape(code: string): boolean {
  return isReadableCode(normalizeReadableCode(code), 12);
}

export type OpenInvitationResult = { ok: true; delegation: Delegation } | { ok: false; reason: 'invalid' | 'self' | 'other_address' };

/**
 * The open invitation a code names, for this helper to read or answer. An invitation is for the
 * address it was sent to: only the account whose confirmed email is that address can use it, so
 * a code that leaks (a forwarded mail, a shared screen) is no use to anyone else.
 */
export async function invitationForHelper(deps: Pick<DelegationDeps, 'db' | 'pepper'>, opts: { helperId: string; code: string }): Promise<OpenInvitationResult> {
  const d = await findInvitation(deps, opts);
  if (!d) return { ok: false, reason: 'invalid' };
  if (d.principalId === opts.helperId) return { ok: false, reason: 'self' };
  const helper = await deps.db.getRepository(Account).findOneBy({ id: opts.helperId });
  if (!helper?.emailConfirmedAt || helper.email !== d.inviteeEmail) return { ok: false, reason: 'other_address' };
  return { ok: true, delegation: d };
}

export type AnswerResult = OpenInvitationResult;

/**
 * The invited helper accepts or declines an invitation; the code is spent either way and the
 * principal is told. Anyone else — another address, the principal — changes nothing and spends nothing.
 */
export async function answerInvitation(deps: DelegationDeps, opts: { helperId: string; code: string; accept: boolean }): Promise<AnswerResult> {
  const open = await invitationForHelper(deps, opts);
  if (!open.ok) return open;
  const d = open.delegation;
  const status = opts.accept ? 'active' : 'declined';
  const res = await deps.db.getRepository(Delegation).createQueryBuilder().update()
    .set({ status, helperId: opts.helperId, inviteHash: null, inviteExpiresAt: null, updatedAt: clock.now() })
    .where('id = :id AND invite_hash IS NOT NULL AND status = :s', { id: d.id, s: 'invited' }).execute();
  if (!res.affected) return { ok: false, reason: 'invalid' };
  Object.assign(d, { status, helperId: opts.helperId, inviteHash: null });
  await recordDelegationEvent({ db: deps.db, delegationId: d.id, actorId: opts.helperId, type: opts.accept ? 'accepted' : 'declined' });
  await recordEvent({ db: deps.db, accountId: opts.helperId, type: opts.accept ? 'delegation_accepted' : 'delegation_declined' });
  await mailTo(deps, { accountId: d.principalId }, opts.accept ? 'delegation_accepted' : 'delegation_declined', { helper: await nameOf(deps.db, opts.helperId) });
  return { ok: true, delegation: d };
}

/** A helper asks a person for access. The person approves, narrows or declines it in their account. */
export async function requestAccess(deps: DelegationDeps, opts: { helperId: string; principalEmail: string; terms: DelegationTerms }): Promise<{ ok: true; delegation: Delegation } | { ok: false; reason: 'self' }> {
  const helper = await deps.db.getRepository(Account).findOneByOrFail({ id: opts.helperId });
  if (helper.email === opts.principalEmail.trim().toLowerCase()) return { ok: false, reason: 'self' };
  const principal = await deps.db.getRepository(Account).findOneBy({ email: opts.principalEmail });
  const now = clock.now();
  const d = deps.db.getRepository(Delegation).create({
    id: randomUUID(), principalId: principal?.id ?? null, helperId: opts.helperId, inviteeEmail: opts.principalEmail, initiatedBy: 'helper', status: 'requested',
    clientIds: JSON.stringify(opts.terms.clientIds), scopes: JSON.stringify(opts.terms.scopes), startsAt: now, endsAt: opts.terms.endsAt,
    inviteHash: null, inviteExpiresAt: null, remindedAt: null, firstUsedAt: null, createdAt: now, updatedAt: now,
  });
  await deps.db.getRepository(Delegation).insert(d);
  await recordDelegationEvent({ db: deps.db, delegationId: d.id, actorId: opts.helperId, type: 'requested', details: { scopes: opts.terms.scopes, clients: opts.terms.clientIds } });
  await recordEvent({ db: deps.db, accountId: opts.helperId, type: 'delegation_requested' });
  // Same mail whether or not the address has an account: no enumeration.
  await mailTo(deps, { email: opts.principalEmail, senderLocale: helper.locale }, 'delegation_request', { helper: helper.email });
  return { ok: true, delegation: d };
}

/** The principal approves a helper's request, possibly narrowing it (never widening). */
export async function answerRequest(deps: DelegationDeps, opts: { principalId: string; delegationId: string; approve: boolean; terms?: DelegationTerms | undefined; agencies?: readonly string[] }): Promise<{ ok: true } | { ok: false; reason: 'not_found' | 'wider' | 'closed' | TermsProblem }> {
  const principal = await deps.db.getRepository(Account).findOneByOrFail({ id: opts.principalId });
  const repo = deps.db.getRepository(Delegation);
  const d = await repo.findOneBy({ id: opts.delegationId });
  // Addressed to this account, or (no account yet when asked) to its address.
  if (!d || !(d.principalId === principal.id || (d.principalId === null && d.inviteeEmail === principal.email))) return { ok: false, reason: 'not_found' };
  if (d.status !== 'requested') return { ok: false, reason: 'closed' };
  const update: Partial<Delegation> = { principalId: principal.id, status: opts.approve ? 'active' : 'declined', updatedAt: clock.now() };
  if (opts.approve && opts.terms) {
    const asked = { clients: parseList(d.clientIds), scopes: parseList(d.scopes) };
    const wider = opts.terms.scopes.some((s) => !asked.scopes.includes(s))
      || (!asked.clients.includes(ALL_AGENCIES) && opts.terms.clientIds.some((c) => !asked.clients.includes(c)))
      || opts.terms.endsAt.getTime() > d.endsAt.getTime();
    if (wider) return { ok: false, reason: 'wider' };
    // Checked against the agencies that enabled delegation (not the request's own list, which
    // may be just "every agency": narrowing it to some of them is what approving less means).
    const enabled = opts.agencies ?? (await listDelegationAgencies({ db: deps.db })).map((a) => a.clientId);
    const problem = checkTerms(opts.terms, enabled);
    if (problem) return { ok: false, reason: problem };
    Object.assign(update, { clientIds: JSON.stringify(opts.terms.clientIds), scopes: JSON.stringify(opts.terms.scopes), endsAt: opts.terms.endsAt });
  }
  // Only while it is still a request: a concurrent revocation or answer wins.
  const res = await repo.createQueryBuilder().update().set(update).where('id = :id AND status = :s', { id: d.id, s: 'requested' }).execute();
  if (!res.affected) return { ok: false, reason: 'closed' };
  await recordDelegationEvent({ db: deps.db, delegationId: d.id, actorId: principal.id, type: opts.approve ? 'approved' : 'declined', details: opts.terms ? { scopes: opts.terms.scopes, clients: opts.terms.clientIds } : {} });
  await recordEvent({ db: deps.db, accountId: principal.id, type: opts.approve ? 'delegation_approved' : 'delegation_declined' });
  await mailTo(deps, { accountId: d.helperId }, opts.approve ? 'delegation_approved' : 'delegation_declined', { principal: principal.email, helper: principal.email });
  return { ok: true };
}

export interface DelegationView {
  delegation: Delegation;
  principalEmail: string;
  helperEmail: string;
  clientIds: string[];
  scopes: string[];
  active: boolean;
  events: DelegationEvent[];
  /** For a legal authority: its review date, and whether the represented person may end it. */
  authority?: { reviewAt: Date | null; principalMayEnd: boolean };
}

async function view(db: EntityManager, d: Delegation, now: Date): Promise<DelegationView> {
  const events = await db.getRepository(DelegationEvent).find({ where: { delegationId: d.id }, order: { at: 'DESC' }, take: 50 });
  return {
    delegation: d, principalEmail: d.principalId ? await nameOf(db, d.principalId) : d.inviteeEmail,
    helperEmail: d.helperId ? await nameOf(db, d.helperId) : d.inviteeEmail,
    clientIds: parseList(d.clientIds), scopes: parseList(d.scopes), active: isActive(d, now), events,
    ...(d.basis !== CONSENT ? { authority: {
      reviewAt: (await db.getRepository(Representation).findOneBy({ delegationId: d.id }))?.reviewAt ?? null,
      principalMayEnd: isRepresentationKind(d.basis) && REPRESENTATION_KINDS[d.basis].principalMayEnd,
    } } : {}),
  };
}

/** What a person sees: the delegations they gave (and requests waiting for them), and those they hold. */
export async function listDelegations(opts: { db: EntityManager; accountId: string }): Promise<{ given: DelegationView[]; held: DelegationView[] }> {
  const me = await opts.db.getRepository(Account).findOneByOrFail({ id: opts.accountId });
  const repo = opts.db.getRepository(Delegation);
  const now = clock.now();
  const given = await repo.find({ where: [{ principalId: me.id }, { status: 'requested', inviteeEmail: me.email, principalId: IsNull() }], order: { createdAt: 'DESC' } });
  const held = await repo.find({ where: { helperId: me.id }, order: { createdAt: 'DESC' } });
  return {
    given: await Promise.all(given.filter((d) => d.helperId !== me.id).map((d) => view(opts.db, d, now))),
    held: await Promise.all(held.map((d) => view(opts.db, d, now))),
  };
}

/**
 * Housekeeping run periodically (and by tests with a moved clock): a reminder to both sides a
 * week before a delegation ends (for a legal authority: to the representative and the source 30
 * days before its review date), and expiry at its end (which revokes what it issued).
 */
export async function maintainDelegations(deps: DelegationDeps, opts: { end?: (delegationId: string, reason: EndReason) => Promise<void> } = {}): Promise<{ reminded: number; expired: string[] }> {
  const repo = deps.db.getRepository(Delegation);
  const now = clock.now();
  const live = await repo.findBy({ status: 'active' });
  let reminded = 0;
  const expired: string[] = [];
  // Invitations nobody answered within their 7 days end too (their code already stopped working).
  for (const d of await repo.findBy({ status: 'invited' })) {
    if (!d.inviteExpiresAt || d.inviteExpiresAt.getTime() > now.getTime()) continue;
    const res = await repo.createQueryBuilder().update().set({ status: 'expired', inviteHash: null, updatedAt: now })
      .where('id = :id AND status = :s', { id: d.id, s: 'invited' }).execute();
    if (!res.affected) continue;
    await recordDelegationEvent({ db: deps.db, delegationId: d.id, actorId: null, type: 'expired' });
    expired.push(d.id);
  }
  for (const d of live) {
    if (d.endsAt.getTime() <= now.getTime()) {
      const reason = await endReasonAt(deps.db, d, now);
      if (opts.end) await opts.end(d.id, reason);
      else await revokeDelegation(deps, { actorId: null, delegationId: d.id, reason });
      expired.push(d.id);
      continue;
    }
    if (d.basis !== CONSENT) {
      if (await remindRepresentationReview(deps, { delegation: d, now })) reminded += 1;
      continue;
    }
    if (!d.remindedAt && d.endsAt.getTime() - now.getTime() <= DELEGATION_RULES.reminderBeforeSeconds * 1000) {
      await repo.update({ id: d.id }, { remindedAt: now });
      for (const id of [d.principalId, d.helperId]) {
        if (id) await mailTo(deps, { accountId: id }, 'delegation_reminder', { principal: await nameOf(deps.db, d.principalId), helper: await nameOf(deps.db, d.helperId), date: d.endsAt.toISOString().slice(0, 10) });
      }
      await recordDelegationEvent({ db: deps.db, delegationId: d.id, actorId: null, type: 'reminded' });
      reminded += 1;
    }
  }
  return { reminded, expired };
}

/** Why a delegation that reached its end ended: a legal authority at its review date (a parent's: the child came of age), else expiry. */
async function endReasonAt(db: EntityManager, d: Delegation, now: Date): Promise<EndReason> {
  if (d.basis === CONSENT || !isRepresentationKind(d.basis)) return 'expired';
  const r = await db.getRepository(Representation).findOneBy({ delegationId: d.id });
  if (!r?.reviewAt || r.reviewAt.getTime() > now.getTime()) return 'expired';
  return REPRESENTATION_KINDS[d.basis].endsAtAge !== undefined ? 'came_of_age' : 'review_date';
}
