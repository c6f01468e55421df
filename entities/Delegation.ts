import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A grant from a principal to a helper: which agencies, which scopes, from when until when, and
 * its state. An invitation is addressed to an email until a helper accepts it; a request from a
 * helper is addressed to the principal's email until they approve it.
 */
@Entity('delegations')
@Index('ix_delegations_principal', ['principalId'])
@Index('ix_delegations_helper', ['helperId'])
@Index('ix_delegations_invite', ['inviteHash'])
export class Delegation {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Null while a helper's request waits for a person who may not have an account yet, and for a represented person without one. */
  @Column({ type: 'varchar', length: 36, name: 'principal_id', nullable: true })
  principalId!: string | null;

  /** Null while an invitation waits for a helper to accept it. */
  @Column({ type: 'varchar', length: 36, name: 'helper_id', nullable: true })
  helperId!: string | null;

  /** The address an invitation (principal → helper) or a request (helper → principal) went to. */
  @Column({ type: 'varchar', length: 254, name: 'invitee_email' })
  inviteeEmail!: string;

  @Column({ type: 'varchar', length: 16, name: 'initiated_by' })
  initiatedBy!: 'principal' | 'helper';

  @Column({ type: 'varchar', length: 16 })
  status!: 'invited' | 'requested' | 'pending' | 'active' | 'declined' | 'revoked' | 'expired';

  /** `consent` for a helper the person chose; else the kind of legal authority (src/delegation/representationKinds.ts). */
  @Column({ type: 'varchar', length: 32, default: 'consent' })
  basis!: string;

  /** Who recorded a legal authority: `operator`, or the client id of the agency that is its register; null for consent. */
  @Column({ type: 'varchar', length: 191, nullable: true })
  source!: string | null;

  /** The represented person without an account (represented_people), when there is no principal account. */
  @Column({ type: 'varchar', length: 36, name: 'represented_person_id', nullable: true })
  representedPersonId!: string | null;

  /** JSON array of client ids, or ["*"] for every agency that enabled delegation. */
  @Column({ type: 'text', name: 'client_ids' })
  clientIds!: string;

  /** JSON array of scopes the helper may receive and use. */
  @Column({ type: 'text' })
  scopes!: string;

  @Column({ type: 'datetime', precision: 3, name: 'starts_at' })
  startsAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'ends_at' })
  endsAt!: Date;

  /** Keyed hash of the single-use invitation code; null once used. */
  @Column({ type: 'varchar', length: 64, name: 'invite_hash', nullable: true })
  inviteHash!: string | null;

  @Column({ type: 'datetime', precision: 3, name: 'invite_expires_at', nullable: true })
  inviteExpiresAt!: Date | null;

  @Column({ type: 'datetime', precision: 3, name: 'reminded_at', nullable: true })
  remindedAt!: Date | null;

  @Column({ type: 'datetime', precision: 3, name: 'first_used_at', nullable: true })
  firstUsedAt!: Date | null;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'updated_at' })
  updatedAt!: Date;
}
