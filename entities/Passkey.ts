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

  /** Authenticator data BE flag: a synced credential, counts at most AAL2 whatever its attestation. */
  @Column({ type: 'boolean', name: 'backup_eligible', default: false })
  backupEligible!: boolean;

  @Column({ type: 'boolean', name: 'backed_up', default: false })
  backedUp!: boolean;

  @Column({ type: 'varchar', length: 36, default: '' })
  aaguid!: string;

  /**
   * What the registration's attestation showed (src/passkeys/judgeAttestation.ts): `trusted`
   * (its certificate chain reached a root the operator's trust store lists for its AAGUID),
   * `untrusted`, `self`, `none`, `unsupported`, `invalid`, or `unknown` for passkeys registered
   * before OneDoor asked for attestation. Only `trusted` can count for AAL3.
   */
  @Column({ type: 'varchar', length: 16, default: 'unknown' })
  attestation!: string;

  /** SHA-256 (hex) of the trust-store root the attestation chained to; null unless `trusted`. */
  @Column({ type: 'varchar', length: 64, name: 'attestation_root', nullable: true })
  attestationRoot!: string | null;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;
}
