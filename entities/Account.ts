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

  /**
   * Consecutive wrong recovery codes (NIST SP 800-63B-4 §3.2.2 throttling; passkeys never count:
   * an assertion cannot be guessed). See src/accounts/recoveryCodeThrottle.ts.
   */
  @Column({ type: 'int', name: 'failed_attempts', default: 0 })
  failedAttempts!: number;

  /** Until when the account's recovery codes wait after wrong codes; passkeys are never held back. */
  @Column({ type: 'datetime', precision: 3, name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;

  /** When the person was last told by mail that someone tried their recovery codes (at most once an hour). */
  @Column({ type: 'datetime', precision: 3, name: 'recovery_alerted_at', nullable: true })
  recoveryAlertedAt!: Date | null;

  /**
   * Subjects this account took over, by sector (JSON `{ "<sector>": "<subject>" }`): when a
   * represented profile joins the account, an agency that knew only that profile keeps the subject
   * it knew (src/delegation/joinRepresentedPeople.ts). Null for almost everyone.
   */
  @Column({ type: 'text', name: 'subject_aliases', nullable: true })
  subjectAliases!: string | null;

  @Column({ type: 'varchar', length: 8, default: 'en' })
  locale!: string;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
