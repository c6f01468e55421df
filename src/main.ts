import 'reflect-metadata';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config/loadConfig.js';
import { purgeExpiredPayloads } from './oidc/createAdapter.js';
import { purgeExpiredRateLimits } from './http/middleware/databaseRateLimit.js';
import { purgePhoneRequests } from './phone/purgePhoneRequests.js';
import { watchSigningKeys } from './oidc/watchSigningKeys.js';
import { maintainDelegationsAndSessions } from './oidc/endDelegation.js';
import { deliverSecurityEvents } from './oidc/deliverSecurityEvents.js';
import { delegationDeps } from './http/deps.js';
import { loadOrCreateKeys } from './oidc/keys.js';
import { logger } from './shared/logger.js';
import { purgeOutbox } from './shared/outbox.js';
import { createDataSource } from '../ormconfig.js';

/** Process entry: configuration, database (migrated), keys, listen, graceful shutdown. */
async function main(): Promise<void> {
  const config = loadConfig();
  logger.level = config.logLevel;
  const ds = createDataSource(config.database);
  await ds.initialize();
  const ran = await ds.runMigrations({ transaction: 'each' });
  if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'migrations applied');
  const keys = await loadOrCreateKeys(config.keysDir, { onCreate: (m) => logger.warn(m) });
  const { app, deps, readiness, close } = createApp({ config, ds, keys });
  // Every node follows KEYS_DIR, so `onedoor keys rotate` on the shared volume reaches all of them.
  // A file that is not usable is logged (one line, no key material), counted and shown in /readyz.
  const keyWatcher = watchSigningKeys({ provider: deps.provider, keys, keysDir: config.keysDir, intervalSeconds: config.keysCheckSeconds, metrics: deps.metrics });

  const server = app.listen(config.port, () => {
    logger.info({ issuer: config.issuer, port: config.port, database: config.database.type }, 'OneDoor is listening');
    process.stdout.write(`OneDoor is running at ${config.issuer} (discovery: ${config.issuer}/.well-known/openid-configuration)\n`);
  });
  // While shutting down, keep-alive connections are closed as soon as their last response is
  // out, so that clients reconnect to another node and the server can finish closing.
  server.on('request', (_req, res) => {
    if (readiness.draining) res.setHeader('connection', 'close');
    res.on('finish', () => { if (readiness.draining) setImmediate(() => server.closeIdleConnections()); });
  });
  server.keepAliveTimeout = 65_000;

  // The outbox holds personal data in clear: kept OUTBOX_RETENTION_HOURS, purged now and with the rest.
  const purgeMessages = () => purgeOutbox({ outboxDir: config.outboxDir, retentionHours: config.outboxRetentionHours })
    .catch((err: Error) => logger.warn({ error: err.name }, 'purge of old outbox messages failed'));
  void purgeMessages();
  const purge = setInterval(() => {
    purgeExpiredPayloads(ds).catch((err: Error) => logger.warn({ error: err.name }, 'purge of expired protocol artifacts failed'));
    purgeExpiredRateLimits(ds).catch((err: Error) => logger.warn({ error: err.name }, 'purge of expired rate-limit counters failed'));
    void purgeMessages();
    purgePhoneRequests({ db: ds }).catch((err: Error) => logger.warn({ error: err.name }, 'purge of old phone requests failed'));
  }, 5 * 60 * 1000);
  purge.unref();
  // Delegations: reminders a week before they end, and expiry (with back-channel logouts).
  const delegations = setInterval(() => {
    maintainDelegationsAndSessions({ provider: deps.provider, ds, deps: delegationDeps(deps) })
      .catch((err: Error) => logger.warn({ error: err.name }, 'delegation maintenance failed'));
  }, 60 * 1000);
  delegations.unref();
  // Security Event Tokens waiting in the outbox go to agencies; a run still going is not doubled.
  let pushing = false;
  const securityEvents = setInterval(() => {
    if (pushing) return;
    pushing = true;
    deliverSecurityEvents({ ds, provider: deps.provider, keys, config })
      .catch((err: Error) => logger.warn({ error: err.name }, 'security event delivery failed'))
      .finally(() => { pushing = false; });
  }, 15 * 1000);
  securityEvents.unref();

  // SIGTERM: /readyz answers 503 at once (the load balancer stops sending), requests are
  // still served for DRAIN_SECONDS, then the listener closes, in-flight requests finish, the
  // database pool closes and the process exits 0 (1 if requests are still running 10 s later).
  const stop = (signal: string) => {
    if (readiness.draining) return;
    readiness.startDraining();
    logger.info({ signal, drainSeconds: config.drainSeconds }, 'shutting down');
    clearInterval(purge);
    clearInterval(delegations);
    clearInterval(securityEvents);
    keyWatcher.stop();
    setTimeout(() => {
      logger.info('no longer accepting connections; finishing requests in flight');
      server.close(() => {
        close().finally(() => ds.destroy()).finally(() => {
          logger.info('stopped');
          process.exit(0);
        });
      });
      server.closeIdleConnections();
      setTimeout(() => {
        logger.warn('requests still running after 10 seconds; exiting');
        process.exit(1);
      }, 10_000).unref();
    }, config.drainSeconds * 1000);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`OneDoor cannot start: ${err.message}\n`);
  } else {
    process.stderr.write(`OneDoor cannot start: ${(err as Error)?.message ?? String(err)}\n`);
  }
  process.exit(1);
});
