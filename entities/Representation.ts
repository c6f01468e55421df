import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A legal authority behind a delegation (its `basis` is the kind). Names, birth dates and the
 * evidence reference are sealed like a verified identity; only the kind, dates and who recorded
 * it are in clear. `representative_match_key` is a keyed hash of the representative's name and
 * birth date as the evidence gives them, compared with their verified identity at every use.
 */
@Entity('representations')
export class Representation {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'delegation_id' })
  delegationId!: string;

  @Column({ type: 'varchar', length: 32 })
  kind!: string;

  @Column({ type: 'varchar', length: 64, name: 'representative_match_key' })
  representativeMatchKey!: string;

  @Column({ type: 'text' })
  sealed!: string;

  @Column({ type: 'datetime', precision: 3, name: 'review_at', nullable: true })
  reviewAt!: Date | null;

  /** Why it ended (a security event reason), once it has. */
  @Column({ type: 'varchar', length: 32, name: 'end_reason', nullable: true })
  endReason!: string | null;

  @Column({ type: 'varchar', length: 191, name: 'recorded_by' })
  recordedBy!: string;

  @Column({ type: 'varchar', length: 191, name: 'approved_by', nullable: true })
  approvedBy!: string | null;

  /** Where the source hears of its end and review (optional). */
  @Column({ type: 'varchar', length: 254, name: 'contact_email', nullable: true })
  contactEmail!: string | null;

  @Column({ type: 'datetime', precision: 3, name: 'review_reminded_at', nullable: true })
  reviewRemindedAt!: Date | null;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
