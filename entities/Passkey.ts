import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A WebAuthn credential (passkey) registered to an account. */
@Entity('passkeys')
export class Passkey {
  /** Credential id, base64url. */
  @PrimaryColumn({ type: 'varchar', length: 1400 })
  id!: string;

  @Index('ix_passkeys_account')
  @Column({ type: 'varchar', length: 36, name: 'account_id' })
  accountId!: string;

  /** COSE public key, base64url. */
  @Column({ type: 'text', name: 'public_key' })
  publicKey!: string;

  @Column({ type: 'bigint', name: 'sign_count', default: 0, transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
  signCount!: number;

  /** JSON array of AuthenticatorTransport. */
  @Column({ type: 'varchar', length: 255, default: '[]' })
  transports!: string;

  /** Authenticator data BE flag: a synced credential, counts at most AAL2. */
  @Column({ type: 'boolean', name: 'backup_eligible', default: false })
  backupEligible!: boolean;

  @Column({ type: 'boolean', name: 'backed_up', default: false })
  backedUp!: boolean;

  @Column({ type: 'varchar', length: 36, default: '' })
  aaguid!: string;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;
}
