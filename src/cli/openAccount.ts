import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { Account } from '../../entities/index.js';
import { findAccountByReference } from '../accounts/findAccountByReference.js';
import type { Config } from '../config/loadConfig.js';
import type { DelegationDeps } from '../delegation/manageDelegations.js';
import { createProvider } from '../oidc/createProvider.js';
import { type KeyMaterial, loadOrCreateKeys } from '../oidc/keys.js';
import { headlessPages } from '../oidc/validateClientFile.js';
import { KEK_FILE } from '../proofing/vault.js';
import { isLocale, translator } from '../shared/i18n.js';
import { connectRedis } from '../shared/connectRedis.js';
import { redisGrantCache, useGrantCache } from '../shared/grantCache.js';
import { createMailer } from '../shared/mailer.js';
import { CliError } from './CliError.js';
import { openDatabase } from './openDatabase.js';

export interface OpenedAccount {
  account: Account;
  ds: DataSource;
  keys: KeyMaterial;
  /**
   * A provider on the shared database (and Redis, when REDIS_URL is set: sessions live there),
   * never listening: it lists and ends sessions and signs back-channel logout tokens.
   */
  provider(): Provider;
  /** What delegation changes need: mail goes out as the server's would (SMTP_URL or the outbox). */
  delegationDeps(): DelegationDeps;
}

/** The server's keys (never generated here: a new key-encryption key could not open anything), the migrated database, a provider and delegation services. */
export async function openServices<T>(opts: { config: Config }, run: (opened: Omit<OpenedAccount, 'account'>) => Promise<T>): Promise<T> {
  const { config } = opts;
  for (const file of ['jwks.json', 'secrets.json', KEK_FILE]) {
    if (!fs.existsSync(path.join(config.keysDir, file))) throw new CliError(`KEYS_DIR: no ${file} in ${config.keysDir}; point KEYS_DIR at the server's keys`);
  }
  const keys = await loadOrCreateKeys(config.keysDir);
  const ds = await openDatabase({ config });
  let redis: Redis | undefined;
  try {
    let provider: Provider | undefined;
    // Sessions and the grant copies live in Redis when the nodes use it: ending access reaches them.
    if (config.redisUrl) {
      redis = connectRedis({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix });
      useGrantCache(ds, redisGrantCache(redis));
    }
    return await run({
      ds, keys,
      provider: () => (provider ??= createProvider({ config, ds, keys, pages: headlessPages, redis })),
      delegationDeps: () => ({
        db: ds.manager, mailer: createMailer({ smtpUrl: config.smtpUrl, outboxDir: config.outboxDir, from: config.mailFrom }),
        t: (l: string) => translator(isLocale(l) ? l : 'en'), pepper: keys.secrets.pepper, issuer: config.issuer,
      }),
    });
  } finally {
    if (redis) await redis.quit().catch(() => redis?.disconnect());
    await ds.destroy();
  }
}

/**
 * The common start of the `accounts` commands: the services (openServices) and the account the
 * operator named. Messages name the argument, never echo what was typed.
 */
export async function openAccount<T>(opts: { config: Config; reference: string }, run: (opened: OpenedAccount) => Promise<T>): Promise<T> {
  return openServices(opts, async (services) => {
    const found = await findAccountByReference({ db: services.ds.manager, reference: opts.reference });
    if (!found.ok) {
      throw new CliError(found.reason === 'invalid_reference'
        ? 'ACCOUNT: must be an email address or an account id (a UUID)'
        : `ACCOUNT: no account with that ${opts.reference.includes('@') ? 'email address' : 'id'}`);
    }
    return run({ ...services, account: found.account });
  });
}
