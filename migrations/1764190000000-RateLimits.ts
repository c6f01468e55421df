import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

/** Rate-limit counters shared by every node on the database (used when no Redis is configured). */
export class RateLimits1764190000000 implements MigrationInterface {
  name = 'RateLimits1764190000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    await q.createTable(new Table({
      name: 'rate_limits',
      columns: [
        { name: 'limit_key', type: 'varchar', length: '191', isPrimary: true, ...(mysql ? { collation: 'utf8mb4_bin' } : {}) },
        { name: 'points', type: 'int', isNullable: false },
        // Milliseconds since the epoch: compared with the node's clock in one statement.
        { name: 'expires_at', type: 'bigint', isNullable: false },
      ],
      indices: [new TableIndex({ name: 'ix_rate_limits_expires', columnNames: ['expires_at'] })],
    }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('rate_limits');
  }
}
