import type { Config } from '../config/loadConfig.js';
import { createDataSource } from '../../ormconfig.js';
import { CliError } from './CliError.js';

export interface RunMigrationsOptions {
  config: Config;
}

/** `onedoor migrate`: runs pending migrations on DATABASE_URL, each in its own transaction. */
export async function runMigrations({ config }: RunMigrationsOptions): Promise<string> {
  const ds = createDataSource(config.database);
  try {
    await ds.initialize();
  } catch (err) {
    throw new CliError(`cannot connect to the database: ${(err as Error).message}`, { cause: err });
  }
  try {
    const ran = await ds.runMigrations({ transaction: 'each' });
    if (!ran.length) return 'no pending migrations: the schema is up to date';
    return ran.map((m) => `ran ${m.name}`).join('\n');
  } catch (err) {
    throw new CliError(`migration failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await ds.destroy();
  }
}
