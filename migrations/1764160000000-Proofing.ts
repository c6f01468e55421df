import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

/** Identity proofing: sessions in progress and verified profiles (sealed personal data). */
export class Proofing1764160000000 implements MigrationInterface {
  name = 'Proofing1764160000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    const bin = mysql ? { collation: 'utf8mb4_bin' } : {};
    const text = mysql ? 'mediumtext' : 'text';
    await q.createTable(new Table({
      name: 'proofing_sessions',
      columns: [
        { name: 'id', type: 'varchar', length: '36', isPrimary: true, ...bin },
        { name: 'account_id', type: 'varchar', length: '36', ...bin },
        { name: 'status', type: 'varchar', length: '24', default: "'in_progress'", ...bin },
        { name: 'facial_match_required', type: 'boolean', default: false },
        { name: 'steps_done', type: 'varchar', length: '255', default: "'[]'", ...bin },
        { name: 'draft', type: text, isNullable: true, ...bin },
        { name: 'code_channel', type: 'varchar', length: '8', isNullable: true, ...bin },
        { name: 'code_hash', type: 'varchar', length: '64', isNullable: true, ...bin },
        { name: 'code_expires_at', type: 'datetime', precision: 3, isNullable: true },
        { name: 'code_attempts', type: 'int', default: 0 },
        { name: 'created_at', type: 'datetime', precision: 3 },
        { name: 'updated_at', type: 'datetime', precision: 3 },
      ],
      indices: [new TableIndex({ name: 'uq_proofing_sessions_account', columnNames: ['account_id'], isUnique: true })],
    }));
    await q.createTable(new Table({
      name: 'verified_profiles',
      columns: [
        { name: 'account_id', type: 'varchar', length: '36', isPrimary: true, ...bin },
        { name: 'status', type: 'varchar', length: '24', default: "'active'", ...bin },
        { name: 'ial', type: 'int', default: 2 },
        { name: 'verified_at', type: 'datetime', precision: 3 },
        { name: 'facial_match', type: 'boolean', default: false },
        { name: 'sealed', type: text, ...bin },
        { name: 'personal_key_wrapped', type: text, ...bin },
        { name: 'created_at', type: 'datetime', precision: 3 },
      ],
    }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('verified_profiles');
    await q.dropTable('proofing_sessions');
  }
}
