import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A pairwise subject OneDoor gave an agency's sector (OIDC Core §8.1), and whose it is. The
 * subject is a keyed hash that cannot be reversed: this is how a subject an agency sends back
 * (CIBA `login_hint`, `id_token_hint`) is traced to the person.
 */
@Entity('pairwise_subjects')
@Index('ix_pairwise_subjects_account', ['accountId'])
export class PairwiseSubject {
  @PrimaryColumn({ type: 'varchar', length: 191 })
  sector!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  subject!: string;

  @Column({ type: 'varchar', length: 36, name: 'account_id' })
  accountId!: string;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
