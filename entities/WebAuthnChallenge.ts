import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A WebAuthn challenge: bound to one flow (interaction uid or session uid) and one purpose,
 * short-lived, and deleted by the verification that uses it (single use).
 */
@Entity('webauthn_challenges')
@Index('uq_webauthn_challenges_binding', ['bindingId', 'purpose'], { unique: true })
export class WebAuthnChallenge {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64, name: 'binding_id' })
  bindingId!: string;

  @Column({ type: 'varchar', length: 24 })
  purpose!: 'register' | 'authenticate';

  @Column({ type: 'varchar', length: 128 })
  challenge!: string;

  /** Set when the ceremony is for a known account (email-first sign-in, adding a passkey). */
  @Column({ type: 'varchar', length: 36, name: 'account_id', nullable: true })
  accountId!: string | null;

  @Column({ type: 'datetime', precision: 3, name: 'expires_at' })
  expiresAt!: Date;
}
