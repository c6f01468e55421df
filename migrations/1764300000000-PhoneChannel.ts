import { type MigrationInterface, type QueryRunner, Table, TableIndex, type TableColumnOptions } from 'typeorm';

/**
 * The phone channel (OpenID Connect CIBA Core 1.0): the requests an agency's phone agent made,
 * as the person sees and answers them, and the pairwise subjects agencies were given, so that a
 * `login_hint` (or `id_token_hint`) naming one can be traced back to the person.
 */
export class PhoneChannel1764300000000 implements MigrationInterface {
  name = 'PhoneChannel1764300000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    // Subjects and keys are case-sensitive base64url: compared byte for byte on MySQL too.
    const bin = mysql ? { collation: 'utf8mb4_bin' } : {};
    const str = (name: string, length: number, nullable = false, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable, ...bin, ...extra });
    const time = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'datetime', precision: 3, isNullable: nullable });
    await q.createTable(new Table({
      name: 'phone_requests',
      columns: [
        str('id', 36, false, { isPrimary: true }), str('auth_req_id', 191), str('client_id', 191), str('account_id', 36, true),
        str('person_key', 64), str('binding_message', 20, true), { name: 'scope', type: 'text', isNullable: true, ...bin },
        { name: 'acr_values', type: 'text', isNullable: true, ...bin }, { name: 'claims', type: 'text', isNullable: true, ...bin },
        { name: 'verified_within', type: 'int', isNullable: true }, str('status', 16), str('delegation_id', 36, true),
        time('created_at'), time('expires_at'), time('answered_at', true),
      ],
      indices: [
        new TableIndex({ name: 'ix_phone_requests_person', columnNames: ['person_key', 'status', 'expires_at'] }),
        new TableIndex({ name: 'ix_phone_requests_account', columnNames: ['account_id', 'client_id', 'status'] }),
        new TableIndex({ name: 'ix_phone_requests_expires', columnNames: ['expires_at'] }),
      ],
    }));
    await q.createTable(new Table({
      name: 'pairwise_subjects',
      columns: [str('sector', 191, false, { isPrimary: true }), str('subject', 64, false, { isPrimary: true }), str('account_id', 36), time('created_at')],
      indices: [new TableIndex({ name: 'ix_pairwise_subjects_account', columnNames: ['account_id'] })],
    }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('pairwise_subjects');
    await q.dropTable('phone_requests');
  }
}
