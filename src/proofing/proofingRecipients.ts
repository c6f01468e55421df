import type { EntityManager } from 'typeorm';
import { ProofingSession, VerifiedProfile } from '../../entities/index.js';
import { readDraft } from './proofingSessions.js';
import { openRecord, parseSealed, type Kek } from './vault.js';
import { letterAddressBlock } from './vendors/sandboxLetters.js';
import { profileAad, type VerifiedIdentity } from './verifiedProfiles.js';

export interface ProofingRecipients {
  /** Every phone number a code was sent to (E.164). */
  phones: string[];
  /** The address blocks letters to the person were printed with. */
  letters: string[];
}

/**
 * Where identity proofing sent messages for this person: the phone numbers they gave and the
 * name and address on their document, from the verified profile and the proofing draft
 * (decrypted with the KEK). Read before an account is deleted, to delete those messages from
 * the outbox too. A sealed record that does not open (a kid in no KEK entry, tampered) adds
 * nothing: its messages go with the outbox's retention instead.
 */
export async function proofingRecipients(opts: { db: EntityManager; kek: Kek; accountId: string }): Promise<ProofingRecipients> {
  const phones = new Set<string>();
  const letters = new Set<string>();
  const profile = await opts.db.getRepository(VerifiedProfile).findOneBy({ accountId: opts.accountId });
  if (profile) {
    try {
      const identity = openRecord({ kek: opts.kek, sealed: parseSealed(profile.sealed), aad: profileAad(opts.accountId) }) as VerifiedIdentity;
      if (identity.phone) phones.add(identity.phone);
      letters.add(letterAddressBlock([identity.givenName, identity.familyName].join(' '), identity.address));
    } catch { /* see above */ }
  }
  const session = await opts.db.getRepository(ProofingSession).findOneBy({ accountId: opts.accountId });
  if (session?.draft) {
    try {
      const draft = readDraft({ kek: opts.kek }, session);
      for (const phone of [draft.phone, ...(draft.phonesTried ?? [])]) if (phone) phones.add(phone);
      if (draft.document) letters.add(letterAddressBlock([draft.document.firstName, draft.document.lastName].join(' '), draft.document.address));
    } catch { /* see above */ }
  }
  return { phones: [...phones], letters: [...letters] };
}
