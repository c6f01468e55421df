import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createApp } from '../../src/app.js';
import { type Config, loadConfig, parseDatabaseUrl } from '../../src/config/loadConfig.js';
import { loadOrCreateKeys, type KeyMaterial } from '../../src/oidc/keys.js';
import { OidcClient } from '../../entities/index.js';
import { createDataSource } from '../../ormconfig.js';
import type { DataSource } from 'typeorm';
import type Provider from 'oidc-provider';
import { createTestDb, type TestDb } from './db.js';

/**
 * OneDoor in-process on a random port, on a real database (SQLite file or MariaDB, see db.ts),
 * with its own keys and outbox folders. `restart()` throws the app away and builds a new one
 * on the same database and keys — what a process restart (or a second node) sees.
 */
export interface TestServer {
  url: string;
  config: Config;
  keys: KeyMaterial;
  db: TestDb;
  ds: DataSource;
  outboxDir: string;
  /** The provider of the app currently serving (a new one after `restart()`). */
  provider: Provider;
  addClient(metadata: Record<string, unknown>): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(opts: { env?: Record<string, string>; databaseUrl?: (url: string) => string } = {}): Promise<TestServer> {
  const db = await createTestDb();
  // The app may reach the database another way (through a proxy the test can cut); `db.ds`
  // stays a direct connection for the test's own checks.
  const appDb = opts.databaseUrl ? parseDatabaseUrl(opts.databaseUrl(db.url)) : db.config;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-srv-'));
  const keysDir = path.join(dir, 'keys');
  const outboxDir = path.join(dir, 'outbox');
  const keys = await loadOrCreateKeys(keysDir);

  let ds = db.ds;
  if (opts.databaseUrl) {
    ds = createDataSource(appDb);
    await ds.initialize();
  }
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const config = loadConfig({
    PORT: String(port), ISSUER: `http://localhost:${port}`, DATABASE_URL: db.url, KEYS_DIR: keysDir,
    OUTBOX_DIR: outboxDir, LOG_LEVEL: 'silent', RATE_LIMIT_MULTIPLIER: '100', ...opts.env,
  });
  config.database = appDb;
  let built = createApp({ config, ds, keys });
  let handler = built.app.callback();
  server.on('request', (req, res) => handler(req, res));

  const t: TestServer = {
    url: config.issuer, config, keys, db, outboxDir,
    get ds() { return ds; },
    get provider() { return built.deps.provider; },
    async addClient(metadata) {
      const now = new Date();
      await ds.getRepository(OidcClient).save({ clientId: String(metadata['client_id'] ?? randomUUID()), metadata: JSON.stringify(metadata), createdAt: now, updatedAt: now });
    },
    async restart() {
      if (ds !== db.ds) await ds.destroy();
      else await db.ds.destroy();
      ds = createDataSource(appDb);
      await ds.initialize();
      built = createApp({ config, ds, keys });
      handler = built.app.callback();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ds.isInitialized) await ds.destroy();
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  } as TestServer;
  return t;
}

/** The newest mail in the outbox (files sort by time), as raw text. */
export function latestMail(outboxDir: string): string {
  const files = fs.readdirSync(outboxDir).filter((f) => f.endsWith('.eml')).sort();
  if (!files.length) throw new Error('outbox is empty');
  return fs.readFileSync(path.join(outboxDir, files[files.length - 1]!), 'utf8');
}
