import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A person represented on legal authority who has no OneDoor account: no passkey, no sign-in,
 * a pairwise subject at each agency from this id. Name and birth date from the evidence are
 * sealed with the PII vault's key; `match_key` is their keyed hash, to find the same person again.
 */
@Entity('represented_people')
@Index('ix_represented_people_match', ['matchKey'])
export class RepresentedPerson {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64, name: 'match_key' })
  matchKey!: string;

  @Column({ type: 'text' })
  sealed!: string;

  /** The account this profile joined, once the person made one and verified as the same person. */
  @Column({ type: 'varchar', length: 36, name: 'account_id', nullable: true })
  accountId!: string | null;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
