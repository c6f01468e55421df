import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An identity-proofing attempt in progress: which steps are done and, sealed (envelope
 * encryption), what the person has given so far. One per account; resumable on any device.
 */
@Entity('proofing_sessions')
export class ProofingSession {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index('uq_proofing_sessions_account', { unique: true })
  @Column({ type: 'varchar', length: 36, name: 'account_id' })
  accountId!: string;

  @Column({ type: 'varchar', length: 24, default: 'in_progress' })
  status!: 'in_progress' | 'pending_letter';

  @Column({ type: 'boolean', name: 'facial_match_required', default: false })
  facialMatchRequired!: boolean;

  /** JSON array of completed step ids. */
  @Column({ type: 'varchar', length: 255, name: 'steps_done', default: '[]' })
  stepsDone!: string;

  /** Sealed JSON of what was collected (document data, SSN, phone); null before any. */
  @Column({ type: 'text', nullable: true })
  draft!: string | null;

  /** Hash of the one-time code sent by SMS or letter, with its channel, expiry and tries. */
  @Column({ type: 'varchar', length: 8, name: 'code_channel', nullable: true })
  codeChannel!: 'sms' | 'letter' | null;

  @Column({ type: 'varchar', length: 64, name: 'code_hash', nullable: true })
  codeHash!: string | null;

  @Column({ type: 'datetime', precision: 3, name: 'code_expires_at', nullable: true })
  codeExpiresAt!: Date | null;

  @Column({ type: 'int', name: 'code_attempts', default: 0 })
  codeAttempts!: number;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'updated_at' })
  updatedAt!: Date;
}
