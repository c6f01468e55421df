import type { Redis } from 'ioredis';
import type { AdapterConstructor, AdapterFactory } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { createAdapter } from './createAdapter.js';
import { createRedisAdapter, REDIS_MODELS } from './createRedisAdapter.js';

/**
 * Where each oidc-provider model lives: in Redis when one is configured and the model is
 * short-lived protocol state (see REDIS_MODELS for what and why), otherwise in the database.
 */
export function createProtocolAdapter(opts: { ds: DataSource; redis?: Redis | undefined }): AdapterConstructor | AdapterFactory {
  const Database = createAdapter(opts.ds);
  if (!opts.redis) return Database;
  const InRedis = createRedisAdapter({ redis: opts.redis });
  // oidc-provider calls the factory once per model and keeps the adapter it gets.
  return (name: string) => (REDIS_MODELS.has(name) ? new InRedis(name) : new Database(name));
}
