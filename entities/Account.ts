import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A person's OneDoor account. Identity-proofing data lives elsewhere, encrypted. */
@Entity('accounts')
export class Account {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Lower-cased, trimmed address; confirmed before the account exists. */
  @Index('uq_accounts_email', { unique: true })
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status!: 'active' | 'disabled';

  /** When an operator disabled the account (`onedoor accounts disable`); null while active. */
  @Column({ type: 'datetime', precision: 3, name: 'disabled_at', nullable: true })
  disabledAt!: Date | null;

  @Column({ type: 'datetime', precision: 3, name: 'email_confirmed_at' })
  emailConfirmedAt!: Date;

  /** Consecutive failed authentication attempts (NIST SP 800-63B §5.2.2 throttling). */
  @Column({ type: 'int', name: 'failed_attempts', default: 0 })
  failedAttempts!: number;

  @Column({ type: 'datetime', precision: 3, name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;

  @Column({ type: 'varchar', length: 8, default: 'en' })
  locale!: string;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
