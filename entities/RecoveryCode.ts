import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One single-use recovery code, stored only as a keyed hash. */
@Entity('recovery_codes')
@Index('uq_recovery_codes_hash', ['accountId', 'codeHash'], { unique: true })
export class RecoveryCode {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'account_id' })
  accountId!: string;

  @Column({ type: 'varchar', length: 64, name: 'code_hash' })
  codeHash!: string;

  @Column({ type: 'datetime', precision: 3, name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
