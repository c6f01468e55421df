import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Append-only record of what happened to an account. `details` never holds PII or secrets. */
@Entity('audit_events')
@Index('ix_audit_events_account_at', ['accountId', 'at'])
export class AuditEvent {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'account_id' })
  accountId!: string;

  @Column({ type: 'varchar', length: 48 })
  type!: string;

  @Column({ type: 'varchar', length: 255, name: 'client_id', nullable: true })
  clientId!: string | null;

  /** JSON object of non-sensitive facts (passkey name, user-agent family, …). */
  @Column({ type: 'text', default: '{}' })
  details!: string;

  @Column({ type: 'datetime', precision: 3 })
  at!: Date;
}
