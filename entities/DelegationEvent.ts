import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Every change to a delegation and every use of it: who, what, when (and at which agency). */
@Entity('delegation_events')
@Index('ix_delegation_events_delegation', ['delegationId', 'at'])
export class DelegationEvent {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'delegation_id' })
  delegationId!: string;

  /** The account that made the change; null for OneDoor itself (expiry). */
  @Column({ type: 'varchar', length: 36, name: 'actor_id', nullable: true })
  actorId!: string | null;

  @Column({ type: 'varchar', length: 32 })
  type!: string;

  @Column({ type: 'varchar', length: 191, name: 'client_id', nullable: true })
  clientId!: string | null;

  /** JSON of non-sensitive facts (scopes released, new end date…). */
  @Column({ type: 'text' })
  details!: string;

  @Column({ type: 'datetime', precision: 3 })
  at!: Date;
}
