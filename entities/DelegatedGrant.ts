import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Links an oidc-provider Grant to the delegation it acts under (the grant is the helper's, acting for the principal). */
@Entity('delegated_grants')
@Index('ix_delegated_grants_delegation', ['delegationId'])
export class DelegatedGrant {
  @PrimaryColumn({ type: 'varchar', length: 191, name: 'grant_id' })
  grantId!: string;

  @Column({ type: 'varchar', length: 36, name: 'delegation_id' })
  delegationId!: string;

  @Column({ type: 'varchar', length: 191, name: 'client_id' })
  clientId!: string;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
