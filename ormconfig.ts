import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { entities } from './entities/index.js';
import { migrations } from './migrations/index.js';
import { type DatabaseConfig, loadConfig } from './src/config/loadConfig.js';
import { takeSqliteTurns } from './src/shared/takeSqliteTurns.js';

/**
 * TypeORM options for OneDoor's database: SQLite (better-sqlite3, the embedded default) or
 * MySQL/MariaDB (mysql2). Schema changes only through migrations; `synchronize` stays off.
 * A null/undefined value in a `where` throws instead of silently matching everything.
 */
export function dataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  const common = {
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    invalidWhereValuesBehavior: { null: 'throw', undefined: 'throw' },
  } as const;
  if (db.type === 'sqlite') {
    if (db.file !== ':memory:') fs.mkdirSync(path.dirname(db.file), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: db.file,
      // WAL lets a second process (another node, the CLI) read while one writes. In WAL mode
      // synchronous=NORMAL syncs at checkpoints instead of at every commit: the database stays
      // consistent after any crash, and only the last commits before a power loss (not a
      // process crash) can be lost — SQLite's documented choice for WAL
      // (https://www.sqlite.org/pragma.html#pragma_synchronous). Production runs on MySQL.
      enableWAL: true,
      prepareDatabase: (conn: { pragma(s: string): unknown }) => {
        conn.pragma('busy_timeout = 5000');
        conn.pragma('synchronous = NORMAL');
      },
    };
  }
  return {
    ...common,
    type: 'mysql',
    url: db.url,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    // Fail fast when the database is away, so requests answer 503 instead of hanging: a new
    // connection gives up after 3 s; at most 100 requests wait for one of the 20 connections,
    // the next ones fail at once; TCP keep-alive notices a silently dropped connection.
    // `trace: false`: mysql2 otherwise captures a stack trace on every query, in case it fails
    // (about 6% of a token request's CPU in `npm run bench`); TypeORM's error names the query.
    connectTimeout: 3000,
    extra: { connectionLimit: 20, queueLimit: 100, enableKeepAlive: true, keepAliveInitialDelay: 10_000, trace: false },
  };
}

export function createDataSource(db: DatabaseConfig): DataSource {
  const ds = new DataSource(dataSourceOptions(db));
  // One connection on SQLite: concurrent requests' transactions take turns (takeSqliteTurns.ts).
  return db.type === 'sqlite' ? takeSqliteTurns(ds) : ds;
}

/**
 * The data source for the configured environment (DATABASE_URL), for tools that want one
 * (`onedoor migrate` is the supported way to migrate). Built on call, never on import: an
 * import must not read the environment, or a bad variable would crash whatever imported this
 * with a stack trace instead of the one-line message main.ts and the CLI give.
 */
export function configuredDataSource(): DataSource {
  return createDataSource(loadConfig(process.env, { warn: () => {} }).database);
}
