import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Storage for oidc-provider's models (Session, Interaction, AuthorizationCode, AccessToken,
 * RefreshToken, Grant, PushedAuthorizationRequest, ReplayDetection, …), one row per artifact.
 */
@Entity('oidc_payloads')
@Index('ix_oidc_payloads_grant', ['grantId'])
@Index('ix_oidc_payloads_uid', ['uid'])
@Index('ix_oidc_payloads_account', ['accountId', 'model'])
@Index('ix_oidc_payloads_expires', ['expiresAt'])
export class OidcPayload {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  model!: string;

  @PrimaryColumn({ type: 'varchar', length: 191 })
  id!: string;

  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 191, name: 'grant_id', nullable: true })
  grantId!: string | null;

  @Column({ type: 'varchar', length: 191, name: 'user_code', nullable: true })
  userCode!: string | null;

  @Column({ type: 'varchar', length: 191, nullable: true })
  uid!: string | null;

  @Column({ type: 'varchar', length: 191, name: 'account_id', nullable: true })
  accountId!: string | null;

  @Column({ type: 'datetime', precision: 3, name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'datetime', precision: 3, name: 'consumed_at', nullable: true })
  consumedAt!: Date | null;
}
