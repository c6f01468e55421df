import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * When a person was last told by mail that someone tried their recovery codes, so that the
 * warning goes out at most once an hour however many nodes see the tries.
 */
export class RecoveryAlerts1764230000000 implements MigrationInterface {
  name = 'RecoveryAlerts1764230000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('accounts', new TableColumn({ name: 'recovery_alerted_at', type: 'datetime', precision: 3, isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('accounts', 'recovery_alerted_at');
  }
}
