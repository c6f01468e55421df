import { type MigrationInterface, type QueryRunner, Table, TableIndex, type TableColumnOptions } from 'typeorm';

/** Delegated access: delegations, their history, and the grants issued under them. */
export class Delegation1764170000000 implements MigrationInterface {
  name = 'Delegation1764170000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    const bin = mysql ? { collation: 'utf8mb4_bin' } : {};
    const str = (name: string, length: number, nullable = false, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable, ...bin, ...extra });
    const time = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'datetime', precision: 3, isNullable: nullable });
    const text = (name: string): TableColumnOptions => ({ name, type: 'text', ...bin });
    await q.createTable(new Table({
      name: 'delegations',
      columns: [
        str('id', 36, false, { isPrimary: true }), str('principal_id', 36, true), str('helper_id', 36, true), str('invitee_email', 254),
        str('initiated_by', 16), str('status', 16), text('client_ids'), text('scopes'), time('starts_at'), time('ends_at'),
        str('invite_hash', 64, true), time('invite_expires_at', true), time('reminded_at', true), time('first_used_at', true),
        time('created_at'), time('updated_at'),
      ],
      indices: [
        new TableIndex({ name: 'ix_delegations_principal', columnNames: ['principal_id'] }),
        new TableIndex({ name: 'ix_delegations_helper', columnNames: ['helper_id'] }),
        new TableIndex({ name: 'ix_delegations_invite', columnNames: ['invite_hash'] }),
      ],
    }));
    await q.createTable(new Table({
      name: 'delegation_events',
      columns: [str('id', 36, false, { isPrimary: true }), str('delegation_id', 36), str('actor_id', 36, true), str('type', 32), str('client_id', 191, true), text('details'), time('at')],
      indices: [new TableIndex({ name: 'ix_delegation_events_delegation', columnNames: ['delegation_id', 'at'] })],
    }));
    await q.createTable(new Table({
      name: 'delegated_grants',
      columns: [str('grant_id', 191, false, { isPrimary: true }), str('delegation_id', 36), str('client_id', 191), time('created_at')],
      indices: [new TableIndex({ name: 'ix_delegated_grants_delegation', columnNames: ['delegation_id'] })],
    }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('delegated_grants');
    await q.dropTable('delegation_events');
    await q.dropTable('delegations');
  }
}
