import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The result of identity proofing. The personal data is sealed (envelope encryption: a data key
 * per profile, wrapped by the key-encryption key outside the database, and again by the
 * person's personal key); only dates and flags are in clear.
 */
@Entity('verified_profiles')
export class VerifiedProfile {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'account_id' })
  accountId!: string;

  /** `pending_reactivation` after an account recovery: the personal key brings it back. */
  @Column({ type: 'varchar', length: 24, default: 'active' })
  status!: 'active' | 'pending_reactivation';

  @Column({ type: 'int', default: 2 })
  ial!: number;

  @Column({ type: 'datetime', precision: 3, name: 'verified_at' })
  verifiedAt!: Date;

  @Column({ type: 'boolean', name: 'facial_match', default: false })
  facialMatch!: boolean;

  @Column({ type: 'text' })
  sealed!: string;

  @Column({ type: 'text', name: 'personal_key_wrapped' })
  personalKeyWrapped!: string;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
