import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A request from an agency's phone agent to confirm who is on the line (CIBA Core 1.0), as the
 * person sees and answers it. The protocol artifact itself is oidc-provider's
 * BackchannelAuthenticationRequest (`auth_req_id`), which never leaves OneDoor's back end: links
 * in mail and text messages carry only `id`. A request for an address without an account has no
 * `account_id` and no details: nobody can answer it, and it expires.
 */
@Entity('phone_requests')
@Index('ix_phone_requests_person', ['personKey', 'status', 'expiresAt'])
@Index('ix_phone_requests_account', ['accountId', 'clientId', 'status'])
@Index('ix_phone_requests_expires', ['expiresAt'])
export class PhoneRequest {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 191, name: 'auth_req_id' })
  authReqId!: string;

  @Column({ type: 'varchar', length: 191, name: 'client_id' })
  clientId!: string;

  @Column({ type: 'varchar', length: 36, name: 'account_id', nullable: true })
  accountId!: string | null;

  /** A keyed digest naming the person the limits count for (the account, or the address asked for). */
  @Column({ type: 'varchar', length: 64, name: 'person_key' })
  personKey!: string;

  @Column({ type: 'varchar', length: 20, name: 'binding_message', nullable: true })
  bindingMessage!: string | null;

  @Column({ type: 'text', nullable: true })
  scope!: string | null;

  @Column({ type: 'text', name: 'acr_values', nullable: true })
  acrValues!: string | null;

  /** JSON array of the claim names asked for with the `claims` parameter. */
  @Column({ type: 'text', nullable: true })
  claims!: string | null;

  /** Login.gov's `verified_within`, in seconds. */
  @Column({ type: 'int', name: 'verified_within', nullable: true })
  verifiedWithin!: number | null;

  @Column({ type: 'varchar', length: 16 })
  status!: 'pending' | 'approved' | 'denied' | 'not_me' | 'unmet';

  /** When approved for a person the approver helps: the delegation it was approved under. */
  @Column({ type: 'varchar', length: 36, name: 'delegation_id', nullable: true })
  delegationId!: string | null;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'expires_at' })
  expiresAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'answered_at', nullable: true })
  answeredAt!: Date | null;
}
