import 'reflect-metadata';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { loadOrCreateKeys } from '../../src/oidc/keys.js';
import { createDataSource } from '../../ormconfig.js';
import { countRoundTrips } from '../lib/countRoundTrips.js';
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
// On SQLite the database runs inside this process: the bench asks the server for its count.
const sent = countRoundTrips({ ds });
const server = app.listen(config.port, '127.0.0.1', () => serveStats(config.issuer, { statements: () => sent.statements }));
server.keepAliveTimeout = 65_000;
