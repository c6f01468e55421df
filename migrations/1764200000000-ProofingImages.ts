import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/**
 * Photos kept between proofing steps (the ID's front, for the facial match), sealed, in parts
 * of at most 1 MiB. MySQL: `mediumblob` (up to 16 MiB a part, so a part always fits);
 * SQLite: `blob` (any size).
 */
export class ProofingImages1764200000000 implements MigrationInterface {
  name = 'ProofingImages1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    const bin = mysql ? { collation: 'utf8mb4_bin' } : {};
    await q.createTable(new Table({
      name: 'proofing_images',
      columns: [
        { name: 'account_id', type: 'varchar', length: '36', isPrimary: true, ...bin },
        { name: 'kind', type: 'varchar', length: '24', isPrimary: true, ...bin },
        { name: 'part', type: 'int', isPrimary: true },
        { name: 'session_id', type: 'varchar', length: '36', ...bin },
        { name: 'data', type: mysql ? 'mediumblob' : 'blob' },
        { name: 'created_at', type: 'datetime', precision: 3 },
      ],
    }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('proofing_images');
  }
}
