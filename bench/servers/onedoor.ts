import 'reflect-metadata';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { loadOrCreateKeys } from '../../src/oidc/keys.js';
import { createDataSource } from '../../ormconfig.js';
import { serveStats } from '../lib/ServerProcess.js';

/**
 * OneDoor as `npm start` runs it (configuration from the environment, migrated database, keys
 * from KEYS_DIR, the same createApp), plus the bench's stats channel.
 */
const config = loadConfig();
const ds = createDataSource(config.database);
await ds.initialize();
await ds.runMigrations({ transaction: 'each' });
const keys = await loadOrCreateKeys(config.keysDir);
const { app } = createApp({ config, ds, keys });
const server = app.listen(config.port, '127.0.0.1', () => serveStats(config.issuer));
server.keepAliveTimeout = 65_000;
