import type { DataSource, EntityManager } from 'typeorm';
import { VerifiedProfile } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import { joinRepresentedPeople } from '../delegation/joinRepresentedPeople.js';
import { readSqlDate, sqlDialect } from '../shared/sqlValues.js';
import { clock } from '../shared/clock.js';
import type { IdDocument } from './documents/parseAamva.js';
import type { ProfileState } from './levels.js';
import type { ProofingContext } from './proofingContext.js';
import { abandonProofing, readDraft, type ProofingState } from './proofingSessions.js';
import { createPersonalKey, openRecord, openRecordWithPersonalKey, parseSealed, sealRecord, serializeSealed, wrapDataKeyWithPersonalKey, type Kek } from './vault.js';

/** The verified identity, as sealed in the profile. */
export interface VerifiedIdentity {
  givenName: string;
  middleName?: string | undefined;
  familyName: string;
  birthdate: string;
  address: IdDocument['address'];
  phone?: string | undefined;
  ssn: string;
  document: { type: IdDocument['documentType']; number: string; issuer: string; country: string; issueDate: string; expirationDate: string };
  verification: { time: string; possession: 'phone' | 'letter'; facialMatch: boolean };
}

/** Additional authenticated data binding a sealed profile to its account. */
export const profileAad = (accountId: string) => `verified-profile:${accountId}`;
const aad = profileAad;

export type CompleteProofingResult = { ok: true; personalKey: string } | { ok: false; reason: 'incomplete' };

/**
 * Finishes identity proofing once every step before re-authentication is done and the person
 * has just re-authenticated: the identity is sealed into the verified profile (replacing any
 * older one), a personal key is made and shown once, and the draft is deleted.
 */
export async function completeProofing(ctx: ProofingContext, opts: { state: ProofingState }): Promise<CompleteProofingResult> {
  if (opts.state.next !== 'reauth') return { ok: false, reason: 'incomplete' };
  const { session } = opts.state;
  const draft = readDraft(ctx, session);
  if (!draft.document || !draft.ssn || !draft.possession) return { ok: false, reason: 'incomplete' };
  const d = draft.document;
  const now = clock.now();
  const identity: VerifiedIdentity = {
    givenName: d.firstName, middleName: d.middleName, familyName: d.lastName, birthdate: d.dateOfBirth, address: d.address,
    phone: draft.possession === 'phone' ? draft.phone : undefined, ssn: draft.ssn,
    document: { type: d.documentType, number: d.documentNumber, issuer: d.issuingJurisdiction, country: d.country, issueDate: d.issueDate, expirationDate: d.expirationDate },
    verification: { time: now.toISOString(), possession: draft.possession, facialMatch: !!draft.facialMatch },
  };
  const sealed = sealRecord({ kek: ctx.kek, plaintext: identity, aad: aad(session.accountId) });
  const personalKey = createPersonalKey();
  const personalKeyWrapped = wrapDataKeyWithPersonalKey({ sealed, kek: ctx.kek, personalKey, aad: aad(session.accountId) });
  const repo = ctx.db.getRepository(VerifiedProfile);
  await repo.delete({ accountId: session.accountId });
  await repo.insert({
    accountId: session.accountId, status: 'active', ial: 2, verifiedAt: now, facialMatch: identity.verification.facialMatch,
    sealed: serializeSealed(sealed), personalKeyWrapped, createdAt: now,
  });
  await abandonProofing(ctx, session.accountId);
  // Someone represented on legal authority before they had an account is now this person.
  await joinRepresentedPeople({ db: ctx.db, pepper: ctx.pepper, accountId: session.accountId, identity: { givenName: identity.givenName, familyName: identity.familyName, birthdate: identity.birthdate } });
  await recordEvent({ db: ctx.db, accountId: session.accountId, type: 'identity_verified', details: { possession: draft.possession, facialMatch: identity.verification.facialMatch } });
  return { ok: true, personalKey };
}

/** What assurance decisions need: when verified, and whether with a facial match (active profiles only). */
/** A verified_profiles row's state columns, as `profileRow` reads them (table alias optional). */
export function profileColumns(db: EntityManager | DataSource, alias?: string): string {
  const { q } = sqlDialect(db);
  const col = (c: string) => (alias ? `${q(alias)}.${q(c)}` : q(c));
  return `${col('status')} AS ${q('profileStatus')}, ${col('verified_at')} AS ${q('profileVerifiedAt')}, ${col('facial_match')} AS ${q('profileFacialMatch')}`;
}

export interface ProfileRow { profileStatus: VerifiedProfile['status'] | null; profileVerifiedAt: string | Date | null; profileFacialMatch: number | boolean | null }

/** What `profileColumns` selected, as a profile state ({} when there is no profile). */
export function profileFromRow(p: ProfileRow | undefined): ProfileState & { status?: VerifiedProfile['status'] } {
  if (!p?.profileStatus) return {};
  if (p.profileStatus !== 'active') return { status: p.profileStatus };
  return { status: p.profileStatus, verifiedAt: readSqlDate(p.profileVerifiedAt)!, facialMatch: Boolean(p.profileFacialMatch) };
}

export async function profileState(opts: { db: EntityManager; accountId: string }): Promise<ProfileState & { status?: VerifiedProfile['status'] }> {
  // Read on every authorization and token use: plain SQL on the primary key.
  const { q } = sqlDialect(opts.db);
  const rows = (await opts.db.query(`SELECT ${profileColumns(opts.db)} FROM ${q('verified_profiles')} WHERE ${q('account_id')} = ?`, [opts.accountId])) as ProfileRow[];
  return profileFromRow(rows[0]);
}

/** The verified identity, decrypted, for claims release; undefined without an active profile. */
export async function readVerifiedIdentity(opts: { db: EntityManager; kek: Kek; accountId: string }): Promise<{ identity: VerifiedIdentity; verifiedAt: Date } | undefined> {
  const p = await opts.db.getRepository(VerifiedProfile).findOneBy({ accountId: opts.accountId });
  if (!p || p.status !== 'active') return undefined;
  const identity = openRecord({ kek: opts.kek, sealed: parseSealed(p.sealed), aad: aad(opts.accountId) }) as VerifiedIdentity;
  return { identity, verifiedAt: p.verifiedAt };
}

/** The person deletes their verified profile: the sealed data goes; they are IAL1 again. */
export async function deleteVerifiedProfile(opts: { db: EntityManager; accountId: string }): Promise<boolean> {
  const res = await opts.db.getRepository(VerifiedProfile).delete({ accountId: opts.accountId });
  if (!res.affected) return false;
  await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'verified_profile_deleted' });
  return true;
}

/**
 * After an account recovery (every passkey lost), the verified profile is set aside until the
 * person proves they hold the personal key they were given at verification (Login.gov does the
 * same after a password reset). True when there was an active profile to set aside.
 */
export async function deactivateForRecovery(opts: { db: EntityManager; accountId: string }): Promise<boolean> {
  const res = await opts.db.getRepository(VerifiedProfile).update({ accountId: opts.accountId, status: 'active' }, { status: 'pending_reactivation' });
  if (!res.affected) return false;
  await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'verified_profile_deactivated' });
  return true;
}

export type ReactivateResult = { ok: true; personalKey: string } | { ok: false; reason: 'not_pending' | 'wrong_key' };

/**
 * Re-activates the profile with the personal key; a new personal key replaces the used one.
 * The identity is re-sealed under a fresh data key (new `sealed`, new wraps by the KEK and by
 * the new personal key) in one update: the used key, and a copy of the old row (a backup, a
 * dump), open only the old record, never the new one (vault.ts, "Personal key"). The update
 * takes the row only as it was read, so of two uses at once exactly one succeeds.
 */
export async function reactivateWithPersonalKey(opts: { db: EntityManager; kek: Kek; accountId: string; personalKey: string }): Promise<ReactivateResult> {
  const repo = opts.db.getRepository(VerifiedProfile);
  const p = await repo.findOneBy({ accountId: opts.accountId });
  if (!p || p.status !== 'pending_reactivation') return { ok: false, reason: 'not_pending' };
  const opened = openRecordWithPersonalKey({ sealed: parseSealed(p.sealed), personalKeyWrapped: p.personalKeyWrapped, personalKey: opts.personalKey, aad: aad(opts.accountId) });
  if (opened === undefined) return { ok: false, reason: 'wrong_key' };
  const sealed = sealRecord({ kek: opts.kek, plaintext: opened, aad: aad(opts.accountId) });
  const personalKey = createPersonalKey();
  const personalKeyWrapped = wrapDataKeyWithPersonalKey({ sealed, kek: opts.kek, personalKey, aad: aad(opts.accountId) });
  const res = await repo.createQueryBuilder().update()
    .set({ status: 'active', sealed: serializeSealed(sealed), personalKeyWrapped })
    .where('account_id = :id AND status = :pending AND personal_key_wrapped = :wrap', { id: opts.accountId, pending: 'pending_reactivation', wrap: p.personalKeyWrapped })
    .execute();
  if (!res.affected) return { ok: false, reason: 'not_pending' };
  await recordEvent({ db: opts.db, accountId: opts.accountId, type: 'verified_profile_reactivated' });
  return { ok: true, personalKey };
}
