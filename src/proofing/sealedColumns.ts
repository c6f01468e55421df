import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { ProofingSession, Representation, RepresentedPerson, VerifiedProfile } from '../../entities/index.js';
import { representationAad, representedPersonAad } from './identityMatchKey.js';
import { draftAad } from './proofingSessions.js';
import { profileAad } from './verifiedProfiles.js';

/**
 * One database column that holds records sealed by the vault (src/proofing/vault.ts): what
 * `onedoor keys rotate-kek` walks to re-wrap data keys under a new KEK. Properties are the
 * entity's property names; `aad` rebuilds, from the row, the aad the record was sealed with.
 */
export interface SealedColumn<E extends ObjectLiteral = ObjectLiteral> {
  /** `table.column`, as reports name it. */
  name: string;
  entity: EntityTarget<E>;
  /** The primary key (one column): rows are walked in its order. */
  key: keyof E & string;
  /** The sealed text (serializeSealed); null means nothing sealed. */
  column: keyof E & string;
  aad(row: E): string;
}

const sealedColumn = <E extends ObjectLiteral>(c: SealedColumn<E>) => c as unknown as SealedColumn;

/** Every sealed column. A new table with sealed data is one more row here. */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  sealedColumn<VerifiedProfile>({ name: 'verified_profiles.sealed', entity: VerifiedProfile, key: 'accountId', column: 'sealed', aad: (r) => profileAad(r.accountId) }),
  sealedColumn<ProofingSession>({ name: 'proofing_sessions.draft', entity: ProofingSession, key: 'id', column: 'draft', aad: (r) => draftAad(r.accountId) }),
  sealedColumn<Representation>({ name: 'representations.sealed', entity: Representation, key: 'delegationId', column: 'sealed', aad: (r) => representationAad(r.delegationId) }),
  sealedColumn<RepresentedPerson>({ name: 'represented_people.sealed', entity: RepresentedPerson, key: 'id', column: 'sealed', aad: (r) => representedPersonAad(r.id) }),
];
