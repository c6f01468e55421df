import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A sign-up in progress: the address, a hashed one-time code, and — once the code matched —
 * when it was confirmed. Bound to the flow (interaction) that started it.
 */
@Entity('email_confirmations')
export class EmailConfirmation {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index('ix_email_confirmations_binding')
  @Column({ type: 'varchar', length: 64, name: 'binding_id' })
  bindingId!: string;

  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'varchar', length: 64, name: 'code_hash' })
  codeHash!: string;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ type: 'datetime', precision: 3, name: 'expires_at' })
  expiresAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'confirmed_at', nullable: true })
  confirmedAt!: Date | null;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
