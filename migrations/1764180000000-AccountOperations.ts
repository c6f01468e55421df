import { type MigrationInterface, type QueryRunner, Table, TableColumn, TableIndex, type TableColumnOptions } from 'typeorm';

/**
 * Operator account commands and security events: when an account was disabled, and the durable
 * outbox of Security Event Tokens (RFC 8417) waiting to be pushed to agencies (RFC 8935).
 */
export class AccountOperations1764180000000 implements MigrationInterface {
  name = 'AccountOperations1764180000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    const bin = mysql ? { collation: 'utf8mb4_bin' } : {};
    const str = (name: string, length: number, nullable = false, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable, ...bin, ...extra });
    const time = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'datetime', precision: 3, isNullable: nullable });
    await q.addColumn('accounts', new TableColumn(time('disabled_at', true)));
    await q.createTable(new Table({
      name: 'security_event_deliveries',
      columns: [
        str('id', 36, false, { isPrimary: true }), str('client_id', 191), str('account_id', 36), str('event_type', 191),
        { name: 'details', type: 'text', ...bin }, str('status', 16), { name: 'attempts', type: 'int', default: 0 },
        time('next_attempt_at'), str('last_error', 255, true), time('event_at'), time('created_at'), time('delivered_at', true),
      ],
      indices: [
        new TableIndex({ name: 'ix_security_event_deliveries_due', columnNames: ['status', 'next_attempt_at'] }),
        new TableIndex({ name: 'ix_security_event_deliveries_account', columnNames: ['account_id'] }),
      ],
    }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('security_event_deliveries');
    await q.dropColumn('accounts', 'disabled_at');
  }
}
