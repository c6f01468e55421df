import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createDataSource } from '../../ormconfig.js';
import { parseDatabaseUrl } from '../../src/config/loadConfig.js';

/** The database OneDoor runs on: a fresh SQLite file, or a fresh database on DATABASE_URL's MySQL/MariaDB. */
export async function benchDatabase(work: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const env = process.env['DATABASE_URL'];
  if (env && /^(mysql|mariadb):\/\//.test(env)) {
    const base = new URL(env.replace(/^mariadb:/, 'mysql:'));
    const name = `onedoor_bench_${randomBytes(4).toString('hex')}`;
    const admin = createDataSource(parseDatabaseUrl(base.toString()));
    await admin.initialize();
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.destroy();
    const u = new URL(base.toString());
    u.pathname = `/${name}`;
    return {
      url: u.toString(),
      async drop() {
        const a = createDataSource(parseDatabaseUrl(base.toString()));
        await a.initialize();
        await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await a.destroy();
      },
    };
  }
  if (env && !env.startsWith('sqlite:')) throw new Error('DATABASE_URL must be sqlite:… or mysql://…');
  return { url: `sqlite:${path.join(work, 'onedoor.sqlite')}`, drop: async () => {} };
}

