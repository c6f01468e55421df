import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * What each passkey's attestation showed, so that AAL3 rests on a verified attestation and not
 * on the backup-eligible flag the authenticator reports about itself (NIST SP 800-63B-4 §2.3).
 * Every passkey registered before this migration is `unknown`: never trusted for AAL3.
 */
export class PasskeyAttestation1764220000000 implements MigrationInterface {
  name = 'PasskeyAttestation1764220000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    const bin = mysql ? { collation: 'utf8mb4_bin' } : {};
    await q.addColumn('passkeys', new TableColumn({ name: 'attestation', type: 'varchar', length: '16', isNullable: false, default: "'unknown'", ...bin }));
    await q.addColumn('passkeys', new TableColumn({ name: 'attestation_root', type: 'varchar', length: '64', isNullable: true, ...bin }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('passkeys', 'attestation_root');
    await q.dropColumn('passkeys', 'attestation');
  }
}
