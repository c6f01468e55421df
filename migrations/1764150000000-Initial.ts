import { type MigrationInterface, type QueryRunner, Table, TableIndex, type TableColumnOptions } from 'typeorm';

/**
 * The foundation schema, written with TypeORM's driver-neutral Table API so that the same
 * migration runs on SQLite and MySQL/MariaDB.
 */
export class Initial1764150000000 implements MigrationInterface {
  name = 'Initial1764150000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    // Identifiers, codes and hashes are case-sensitive: on MySQL every string column compares
    // bytes (utf8mb4_bin), never the case-folding default collation.
    const bin = mysql ? { collation: 'utf8mb4_bin' } : {};
    const id = (name = 'id', length = 36): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isPrimary: true, ...bin });
    const str = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable, ...bin });
    const time = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'datetime', precision: 3, isNullable: nullable });
    const int = (name: string, def = 0): TableColumnOptions => ({ name, type: 'int', default: def });
    const bool = (name: string): TableColumnOptions => ({ name, type: 'boolean', default: false });
    const text = (name: string, big = false): TableColumnOptions => ({ name, type: mysql ? (big ? 'mediumtext' : 'text') : 'text', ...bin });

    await q.createTable(new Table({
      name: 'accounts',
      columns: [id(), str('email', 254), { ...str('status', 16), default: "'active'" }, time('email_confirmed_at'), int('failed_attempts'), time('locked_until', true), { ...str('locale', 8), default: "'en'" }, time('created_at')],
      indices: [new TableIndex({ name: 'uq_accounts_email', columnNames: ['email'], isUnique: true })],
    }));

    await q.createTable(new Table({
      name: 'passkeys',
      // WebAuthn credential ids are up to 1023 bytes (1364 base64url characters); ASCII keeps the key within MySQL's index limit.
      columns: [{ ...id('id', 1400), ...(mysql ? { charset: 'ascii', collation: 'ascii_bin' } : {}) }, str('account_id', 36), text('public_key'), { name: 'sign_count', type: 'bigint', default: 0 }, { ...str('transports', 255), default: "'[]'" }, bool('backup_eligible'), bool('backed_up'), { ...str('aaguid', 36), default: "''" }, str('name', 64), time('created_at'), time('last_used_at', true)],
      indices: [new TableIndex({ name: 'ix_passkeys_account', columnNames: ['account_id'] })],
    }));

    await q.createTable(new Table({
      name: 'recovery_codes',
      columns: [id(), str('account_id', 36), str('code_hash', 64), time('used_at', true), time('created_at')],
      indices: [new TableIndex({ name: 'uq_recovery_codes_hash', columnNames: ['account_id', 'code_hash'], isUnique: true })],
    }));

    await q.createTable(new Table({
      name: 'email_confirmations',
      columns: [id(), str('binding_id', 64), str('email', 254), str('code_hash', 64), int('attempts'), time('expires_at'), time('confirmed_at', true), time('created_at')],
      indices: [new TableIndex({ name: 'ix_email_confirmations_binding', columnNames: ['binding_id'] })],
    }));

    await q.createTable(new Table({
      name: 'webauthn_challenges',
      columns: [id(), str('binding_id', 64), str('purpose', 24), str('challenge', 128), str('account_id', 36, true), time('expires_at')],
      indices: [new TableIndex({ name: 'uq_webauthn_challenges_binding', columnNames: ['binding_id', 'purpose'], isUnique: true })],
    }));

    await q.createTable(new Table({
      name: 'audit_events',
      columns: [id(), str('account_id', 36), str('type', 48), str('client_id', 255, true), { ...text('details'), ...(mysql ? {} : { default: "'{}'" }) }, time('at')],
      indices: [new TableIndex({ name: 'ix_audit_events_account_at', columnNames: ['account_id', 'at'] })],
    }));

    await q.createTable(new Table({
      name: 'oidc_payloads',
      columns: [
        { name: 'model', type: 'varchar', length: '40', isPrimary: true, ...bin },
        { name: 'id', type: 'varchar', length: '191', isPrimary: true, ...bin },
        text('payload', true),
        str('grant_id', 191, true), str('user_code', 191, true), str('uid', 191, true), str('account_id', 191, true),
        time('expires_at', true), time('consumed_at', true),
      ],
      indices: [
        new TableIndex({ name: 'ix_oidc_payloads_grant', columnNames: ['grant_id'] }),
        new TableIndex({ name: 'ix_oidc_payloads_uid', columnNames: ['uid'] }),
        new TableIndex({ name: 'ix_oidc_payloads_account', columnNames: ['account_id', 'model'] }),
        new TableIndex({ name: 'ix_oidc_payloads_expires', columnNames: ['expires_at'] }),
      ],
    }));

    await q.createTable(new Table({
      name: 'oidc_clients',
      columns: [{ name: 'client_id', type: 'varchar', length: '191', isPrimary: true, ...bin }, text('metadata', true), time('created_at'), time('updated_at')],
    }));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['oidc_clients', 'oidc_payloads', 'audit_events', 'webauthn_challenges', 'email_confirmations', 'recovery_codes', 'passkeys', 'accounts']) {
      await q.dropTable(t);
    }
  }
}
