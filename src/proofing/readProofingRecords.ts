import type { EntityManager } from 'typeorm';
import { ProofingSession, VerifiedProfile } from '../../entities/index.js';
import { readDraft, stateOf, type ProofingDraft } from './proofingSessions.js';
import { openRecord, parseSealed, type Kek } from './vault.js';
import { profileAad, type VerifiedIdentity } from './verifiedProfiles.js';

export interface ProofingRecords {
  verifiedProfile: { status: VerifiedProfile['status']; ial: number; verifiedAt: Date; facialMatch: boolean; identity: VerifiedIdentity } | null;
  inProgress: { status: ProofingSession['status']; stepsDone: string[]; nextStep: string; startedAt: Date; updatedAt: Date; collected: ProofingDraft } | null;
}

/**
 * Everything identity proofing holds about one person, decrypted with the key-encryption key:
 * for the person's own copy of their data (right of access), never for release to an agency.
 * A profile set aside after an account recovery is included too, marked as such.
 */
export async function readProofingRecords(opts: { db: EntityManager; kek: Kek; accountId: string }): Promise<ProofingRecords> {
  const profile = await opts.db.getRepository(VerifiedProfile).findOneBy({ accountId: opts.accountId });
  const session = await opts.db.getRepository(ProofingSession).findOneBy({ accountId: opts.accountId });
  const state = session ? stateOf(session) : undefined;
  return {
    verifiedProfile: profile ? {
      status: profile.status, ial: profile.ial, verifiedAt: profile.verifiedAt, facialMatch: profile.facialMatch,
      identity: openRecord({ kek: opts.kek, sealed: parseSealed(profile.sealed), aad: profileAad(opts.accountId) }) as VerifiedIdentity,
    } : null,
    inProgress: session && state ? {
      status: session.status, stepsDone: state.done, nextStep: state.next, startedAt: session.createdAt, updatedAt: session.updatedAt,
      collected: readDraft({ kek: opts.kek }, session),
    } : null,
  };
}
