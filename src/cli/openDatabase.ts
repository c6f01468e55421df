import fs from 'node:fs';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/loadConfig.js';
import { createDataSource } from '../../ormconfig.js';
import { CliError } from './CliError.js';

export interface OpenDatabaseOptions {
  config: Config;
  /** A data source already created (not yet initialized) for `config.database`. */
  ds?: DataSource;
}

const MIGRATE_FIRST = 'run `npx onedoor migrate` first';

/**
 * Connects to DATABASE_URL for a command that reads or writes data, and refuses to go on
 * unless every migration has run: only `onedoor migrate` changes the schema, so that schema
 * changes in production are a deliberate step. The check is read-only; it never creates the
 * SQLite file or TypeORM's migrations table.
 */
export async function openDatabase({ config, ds = createDataSource(config.database) }: OpenDatabaseOptions): Promise<DataSource> {
  if (config.database.type === 'sqlite' && config.database.file !== ':memory:' && !fs.existsSync(config.database.file)) {
    throw new CliError(`no database at ${config.database.file}: ${MIGRATE_FIRST}`);
  }
  try {
    await ds.initialize();
  } catch (err) {
    throw new CliError(`cannot connect to the database: ${(err as Error).message}`, { cause: err });
  }
  try {
    const table = ds.options.migrationsTableName ?? 'migrations';
    const runner = ds.createQueryRunner();
    let applied: Set<string>;
    try {
      if (!(await runner.hasTable(table))) throw new CliError(`the database has no OneDoor schema: ${MIGRATE_FIRST}`);
      const rows = await runner.query(`SELECT ${ds.driver.escape('name')} AS name FROM ${ds.driver.escape(table)}`) as Array<{ name: string }>;
      applied = new Set(rows.map((r) => r.name));
    } finally {
      await runner.release();
    }
    const pending = ds.migrations.filter((m) => !applied.has(m.name ?? m.constructor.name));
    if (pending.length) throw new CliError(`the database schema is ${pending.length} migration(s) behind: ${MIGRATE_FIRST}`);
    return ds;
  } catch (err) {
    await ds.destroy();
    throw err;
  }
}
