import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A relying party (agency). `metadata` is its validated registration metadata as JSON. */
@Entity('oidc_clients')
export class OidcClient {
  @PrimaryColumn({ type: 'varchar', length: 191, name: 'client_id' })
  clientId!: string;

  @Column({ type: 'text' })
  metadata!: string;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'datetime', precision: 3, name: 'updated_at' })
  updatedAt!: Date;
}
