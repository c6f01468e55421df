import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A photo identity proofing must keep between two steps (the front of the ID, until the
 * facial match compares the selfie with it), sealed (envelope encryption, bound to the account
 * and the proofing session) and stored in parts of at most 1 MiB: a phone photo is megabytes,
 * and one statement of that size would exceed MySQL's max_allowed_packet (16 MiB by default on
 * MariaDB, with the bytes sent as hex). Deleted with the proofing session.
 */
@Entity('proofing_images')
export class ProofingImage {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'account_id' })
  accountId!: string;

  /** What the photo is; one of each per account. */
  @PrimaryColumn({ type: 'varchar', length: 24 })
  kind!: 'document_front';

  /** 0, 1, …: the sealed bytes are the parts concatenated in this order. */
  @PrimaryColumn({ type: 'int' })
  part!: number;

  /** The proofing session the photo was taken in; a photo from an earlier session is never used. */
  @Column({ type: 'varchar', length: 36, name: 'session_id' })
  sessionId!: string;

  @Column({ type: 'blob' })
  data!: Buffer;

  @Column({ type: 'datetime', precision: 3, name: 'created_at' })
  createdAt!: Date;
}
