import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One Security Event Token (RFC 8417) for one agency, waiting to be pushed (RFC 8935) or kept
 * as a record once delivered or given up on. The token is signed when it is sent; the row holds
 * what goes into it. `id` is the token's `jti`, so a retry sends the same event.
 */
@Entity('security_event_deliveries')
@Index('ix_security_event_deliveries_due', ['status', 'nextAttemptAt'])
@Index('ix_security_event_deliveries_account', ['accountId'])
export class SecurityEventDelivery {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 191, name: 'client_id' })
  clientId!: string;

  /** The person the event is about; the agency receives their pairwise subject, never this id. */
  @Column({ type: 'varchar', length: 36, name: 'account_id' })
  accountId!: string;

  /** Event-type URI (RISC, CAEP or OneDoor's own). */
  @Column({ type: 'varchar', length: 191, name: 'event_type' })
  eventType!: string;

  /** JSON object of the event's own claims (no PII). */
  @Column({ type: 'text' })
  details!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: 'pending' | 'delivered' | 'failed';

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ type: 'datetime', precision: 3, name: 'next_attempt_at' })
  nextAttemptAt!: Date;

  /** Why the last attempt did not succeed: an HTTP status, the receiver's `err` code, or a network error class. */
  @Column({ type: 'varchar', length: 255, name: 'last_error', nullable: true })
  lastError!: string | null;

  /** When it happened (the token's `iat` and the event's `event_timestamp`). */
  @Column({ type: 'datetime', precision: 3, name: 'event_at' })
  eventAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'delivered_at', nullable: true })
  deliveredAt!: Date | null;
}
