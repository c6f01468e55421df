import { type MigrationInterface, type QueryRunner, Table, TableColumn, TableIndex, type TableColumnOptions } from 'typeorm';

/**
 * Representation on legal authority (guardianship, power of attorney, representative payee,
 * parent of a minor): a delegation gains its basis and source, and may stand for a represented
 * person who has no account; the authority's sealed record sits beside it.
 */
export class Representation1764400000000 implements MigrationInterface {
  name = 'Representation1764400000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    const bin = mysql ? { collation: 'utf8mb4_bin' } : {};
    const str = (name: string, length: number, nullable = false, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable, ...bin, ...extra });
    const time = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'datetime', precision: 3, isNullable: nullable });
    await q.addColumns('delegations', [
      new TableColumn(str('basis', 32, false, { default: "'consent'" })),
      new TableColumn(str('source', 191, true)),
      new TableColumn(str('represented_person_id', 36, true)),
    ]);
    // Subjects an account took over from the represented profile it joined, by sector (JSON).
    await q.addColumn('accounts', new TableColumn({ name: 'subject_aliases', type: 'text', isNullable: true, ...bin }));
    await q.createTable(new Table({
      name: 'representations',
      columns: [
        str('delegation_id', 36, false, { isPrimary: true }), str('kind', 32), str('representative_match_key', 64),
        { name: 'sealed', type: 'text', ...bin }, time('review_at', true), str('end_reason', 32, true),
        str('recorded_by', 191), str('approved_by', 191, true), str('contact_email', 254, true), time('review_reminded_at', true), time('created_at'),
      ],
    }));
    await q.createTable(new Table({
      name: 'represented_people',
      columns: [str('id', 36, false, { isPrimary: true }), str('match_key', 64), { name: 'sealed', type: 'text', ...bin }, str('account_id', 36, true), time('created_at')],
      indices: [new TableIndex({ name: 'ix_represented_people_match', columnNames: ['match_key'] })],
    }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('represented_people');
    await q.dropTable('representations');
    await q.dropColumn('accounts', 'subject_aliases');
    for (const c of ['represented_person_id', 'source', 'basis']) await q.dropColumn('delegations', c);
  }
}
