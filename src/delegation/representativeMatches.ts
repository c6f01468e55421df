import type { EntityManager } from 'typeorm';
import type { Representation } from '../../entities/index.js';
import { identityMatchKey } from '../proofing/identityMatchKey.js';
import type { Kek } from '../proofing/vault.js';
import { readVerifiedIdentity } from '../proofing/verifiedProfiles.js';
import { safeEqual } from '../shared/ids.js';

/**
 * Is the representative, now, the person the authority names? They must hold an active verified
 * identity (IAL2) whose name and birth date match the record's. Asked when they choose whom to act
 * for and at every use of every token (a deleted or set-aside identity stops the authority at once).
 */
export async function representativeMatches(opts: { db: EntityManager; kek: Kek; pepper: string; helperId: string; representation: Pick<Representation, 'representativeMatchKey'> }): Promise<boolean> {
  const key = await verifiedMatchKey({ db: opts.db, kek: opts.kek, pepper: opts.pepper, accountId: opts.helperId });
  return key !== null && safeEqual(key, opts.representation.representativeMatchKey);
}

/** The name-and-birth-date match key of an account's active verified identity (IAL2), or null without one. */
export async function verifiedMatchKey(opts: { db: EntityManager; kek: Kek; pepper: string; accountId: string }): Promise<string | null> {
  const read = await readVerifiedIdentity({ db: opts.db, kek: opts.kek, accountId: opts.accountId });
  if (!read) return null;
  const { identity } = read;
  return identityMatchKey({ pepper: opts.pepper, givenName: identity.givenName, familyName: identity.familyName, birthdate: identity.birthdate });
}
