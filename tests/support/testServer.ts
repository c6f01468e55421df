import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { type AppDeps, createApp, type OneDoorApp } from '../../src/app.js';
import { type Config, loadConfig, parseDatabaseUrl } from '../../src/config/loadConfig.js';
import { loadOrCreateKeys, type KeyMaterial } from '../../src/oidc/keys.js';
import { OidcClient } from '../../entities/index.js';
import { createVendors } from '../../src/proofing/vendors/createVendors.js';
import type { ProofingVendors } from '../../src/proofing/vendors/ports.js';
import { createDataSource } from '../../ormconfig.js';
import type { DataSource } from 'typeorm';
import type Provider from 'oidc-provider';
import { createTestDb, type TestDb } from './db.js';

/**
 * OneDoor in-process on a random port, on a real database (SQLite file or MariaDB, see db.ts),
 * with its own keys and outbox folders. `restart()` throws the app away and builds a new one
 * on the same database and keys — what a process restart sees. `startNode()` runs another
 * OneDoor at the same time, on its own port and database connection but the same database,
 * keys and configuration (the issuer stays the first node's URL, as behind a load balancer).
 */
export interface TestNode {
  /** Where this node listens (requests sent here reach this node only). */
  url: string;
  app: OneDoorApp;
  ds: DataSource;
  close(): Promise<void>;
}

export interface TestServer {
  url: string;
  /** Where the first node listens: the same as `url` unless the test set its own ISSUER. */
  listenUrl: string;
  config: Config;
  keys: KeyMaterial;
  db: TestDb;
  ds: DataSource;
  outboxDir: string;
  /** The provider of the app currently serving (a new one after `restart()`). */
  provider: Provider;
  addClient(metadata: Record<string, unknown>): Promise<void>;
  /** The first node's app, as built by the latest start or restart. */
  readonly app: OneDoorApp;
  restart(): Promise<void>;
  startNode(): Promise<TestNode>;
  close(): Promise<void>;
}

/**
 * `decodePool`: the photo decode pool's size, queue and time limit. `vendors`: the proofing
 * vendors, given the sandbox ones (e.g. to wrap one). Both apply to every app of this server
 * (restarts, other nodes).
 */
export async function startTestServer(opts: {
  env?: Record<string, string>; databaseUrl?: (url: string) => string;
  decodePool?: AppDeps['decodePool']; vendors?: (sandbox: ProofingVendors) => ProofingVendors;
  /** A database to serve (e.g. one restored from a backup) instead of a fresh one; closed with the server. */
  db?: TestDb;
  /** Keys to use (e.g. restored from a backup) instead of new ones; left in place on close. */
  keysDir?: string;
  /** Listen on this port (the same issuer and WebAuthn origin as an earlier server), not a random one. */
  port?: number;
} = {}): Promise<TestServer> {
  const db = opts.db ?? await createTestDb();
  // The app may reach the database another way (through a proxy the test can cut); `db.ds`
  // stays a direct connection for the test's own checks.
  const appDb = opts.databaseUrl ? parseDatabaseUrl(opts.databaseUrl(db.url)) : db.config;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-srv-'));
  const keysDir = opts.keysDir ?? path.join(dir, 'keys');
  const outboxDir = path.join(dir, 'outbox');
  const keys = await loadOrCreateKeys(keysDir);

  let ds = db.ds;
  if (opts.databaseUrl) {
    ds = createDataSource(appDb);
    await ds.initialize();
  }
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const config = loadConfig({
    PORT: String(port), ISSUER: `http://localhost:${port}`, DATABASE_URL: db.url, KEYS_DIR: keysDir,
    OUTBOX_DIR: outboxDir, LOG_LEVEL: 'silent', RATE_LIMIT_MULTIPLIER: '100', ...opts.env,
  });
  config.database = appDb;
  const appDeps: Pick<AppDeps, 'decodePool' | 'vendors'> = {
    decodePool: opts.decodePool, vendors: opts.vendors?.(createVendors({ vendor: config.proofingVendor, outboxDir })),
  };
  let current = createApp({ config, ds, keys, ...appDeps });
  let handler = current.app.callback();
  server.on('request', (req, res) => handler(req, res));
  const nodes = new Set<TestNode>();

  const t: TestServer = {
    url: config.issuer, listenUrl: `http://localhost:${port}`, config, keys, db, outboxDir,
    get ds() { return ds; },
    get provider() { return current.deps.provider; },
    get app() { return current; },
    async addClient(metadata) {
      const now = new Date();
      await ds.getRepository(OidcClient).save({ clientId: String(metadata['client_id'] ?? randomUUID()), metadata: JSON.stringify(metadata), createdAt: now, updatedAt: now });
    },
    async restart() {
      if (ds !== db.ds) await ds.destroy();
      else await db.ds.destroy();
      await current.close();
      ds = createDataSource(appDb);
      await ds.initialize();
      current = createApp({ config, ds, keys, ...appDeps });
      handler = current.app.callback();
    },
    async startNode() {
      const nodeDs = createDataSource(appDb);
      await nodeDs.initialize();
      // Its own key material read from the shared KEYS_DIR, as another machine would.
      const app = createApp({ config, ds: nodeDs, keys: await loadOrCreateKeys(keysDir), ...appDeps });
      const nodeServer = http.createServer(app.app.callback());
      await new Promise<void>((resolve) => nodeServer.listen(0, '127.0.0.1', resolve));
      const node: TestNode = {
        url: `http://localhost:${(nodeServer.address() as AddressInfo).port}`, app, ds: nodeDs,
        async close() {
          if (!nodes.delete(node)) return;
          nodeServer.closeAllConnections();
          await new Promise<void>((resolve) => nodeServer.close(() => resolve()));
          await app.close();
          await nodeDs.destroy();
        },
      };
      nodes.add(node);
      return node;
    },
    async close() {
      for (const node of [...nodes]) await node.close();
      await current.close();
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
