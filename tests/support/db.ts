import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig.js';
import { parseDatabaseUrl, type DatabaseConfig } from '../../src/config/loadConfig.js';

/**
 * A real database for one test file: a fresh SQLite file by default, or — when DATABASE_URL
 * names MySQL/MariaDB — a fresh database on that server, created and dropped per file.
 * Migrations run as in production.
 */
export interface TestDb {
  ds: DataSource;
  config: DatabaseConfig;
  url: string;
  close(): Promise<void>;
}

export async function createTestDb(): Promise<TestDb> {
  const env = process.env['DATABASE_URL'];
  if (env && /^(mysql|mariadb):\/\//.test(env)) {
    const base = new URL(env.replace(/^mariadb:/, 'mysql:'));
    const name = `onedoor_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = createDataSource(parseDatabaseUrl(base.toString()));
    await admin.initialize();
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.destroy();
    const u = new URL(base.toString());
    u.pathname = `/${name}`;
    const config = parseDatabaseUrl(u.toString());
    const ds = createDataSource(config);
    await ds.initialize();
    await ds.runMigrations();
    return {
      ds, config, url: u.toString(),
      async close() {
        if (ds.isInitialized) await ds.destroy();
        const a = createDataSource(parseDatabaseUrl(base.toString()));
        await a.initialize();
        await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await a.destroy();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-db-'));
  const file = path.join(dir, 'test.sqlite');
  const config = parseDatabaseUrl(`sqlite:${file}`);
  const ds = createDataSource(config);
  await ds.initialize();
  await ds.runMigrations();
  return {
    ds, config, url: `sqlite:${file}`,
    async close() {
      if (ds.isInitialized) await ds.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An existing database as a test's own (one restored from a backup): `url` names it
 * (`sqlite:FILE` or `mysql://…/NAME`); closing drops it (MariaDB) or deletes its folder (SQLite).
 */
export async function adoptTestDb(url: string): Promise<TestDb> {
  const config = parseDatabaseUrl(url);
  const ds = createDataSource(config);
  await ds.initialize();
  return {
    ds, config, url,
    async close() {
      if (config.type === 'sqlite') {
        if (ds.isInitialized) await ds.destroy();
        fs.rmSync(path.dirname(config.file), { recursive: true, force: true });
        return;
      }
      // MySQL lets a connection drop the database it is in.
      if (!ds.isInitialized) await ds.initialize();
      await ds.query(`DROP DATABASE IF EXISTS \`${new URL(url).pathname.slice(1)}\``);
      await ds.destroy();
    },
  };
}
