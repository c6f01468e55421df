import type { Redis } from 'ioredis';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { InsertNew } from './createAdapter.js';

/**
 * The oidc-provider models kept in Redis when REDIS_URL is set: short-lived, written on every
 * step of a sign-in, and worthless after minutes. Losing them (a Redis restart) only restarts
 * sign-ins in progress. Everything that must outlive Redis stays in the database: Session (a
 * person's sign-ins are listed and ended by account, e.g. "sign out everywhere" and back-channel
 * logout when a delegation ends), Grant, AccessToken and RefreshToken (an agency's consent and
 * its long-lived tokens; losing them would sign the person out of every agency), and
 * ReplayDetection: a client assertion's `jti` must stay refused until the assertion expires,
 * and a Redis restarted empty would forget it (one INSERT per token request, docs/performance.md).
 */
export const REDIS_MODELS: ReadonlySet<string> = new Set(['Interaction', 'AuthorizationCode', 'PushedAuthorizationRequest']);

/**
 * Marks an artifact consumed only if it exists and is not consumed yet, in one step on the
 * server: of any number of concurrent redemptions exactly one gets 1.
 */
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])`;

/** Writes the artifact (a hash, as upsert does) only if its key does not exist; 1 if it wrote. */
const INSERT_NEW = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`;

type RedisWithConsume = Redis & {
  onedoorConsume(key: string, now: string): Promise<number>;
  onedoorInsertNew(key: string, payload: string, ttl: string): Promise<number>;
};

/**
 * oidc-provider's adapter interface over Redis (ioredis), after the upstream example adapter:
 * one hash per artifact (`payload`, `consumed`) with the artifact's TTL, a set per grant naming
 * the keys issued under it (revokeByGrantId), and lookup keys for `uid` and `userCode`.
 * Keys are relative to the client's `keyPrefix`.
 */
export function createRedisAdapter(opts: { redis: Redis }): new (name: string) => Adapter & InsertNew {
  if (!('onedoorConsume' in opts.redis)) opts.redis.defineCommand('onedoorConsume', { numberOfKeys: 1, lua: CONSUME });
  if (!('onedoorInsertNew' in opts.redis)) opts.redis.defineCommand('onedoorInsertNew', { numberOfKeys: 1, lua: INSERT_NEW });
  const redis = opts.redis as RedisWithConsume;

  const keyFor = (model: string, id: string) => `oidc:${model}:${id}`;
  const grantKeyFor = (grantId: string) => `oidc:grant:${grantId}`;

  return class RedisAdapter implements Adapter, InsertNew {
    readonly model: string;

    constructor(name: string) {
      if (!REDIS_MODELS.has(name)) throw new Error(`${name} is not kept in Redis`);
      this.model = name;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = keyFor(this.model, id);
      const ttl = Math.max(1, Math.ceil(expiresIn || 0));
      const multi = redis.multi().del(key).hset(key, 'payload', JSON.stringify(payload)).expire(key, ttl);
      if (payload.grantId) {
        // The grant's set lives as long as the longest artifact in it.
        const grantKey = grantKeyFor(payload.grantId);
        multi.sadd(grantKey, key).expire(grantKey, ttl, 'GT').expire(grantKey, ttl, 'NX');
      }
      if (payload.uid) multi.set(`oidc:${this.model}:uid:${payload.uid}`, id, 'EX', ttl);
      if (payload.userCode) multi.set(`oidc:${this.model}:userCode:${payload.userCode}`, id, 'EX', ttl);
      const results = await multi.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0]!;
    }

    /** Only for artifacts without grant, uid or user code (replay ids): SET NX is the claim. */
    async insertNew(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
      if (payload.grantId || payload.uid || payload.userCode) throw new Error('insertNew is for plain artifacts');
      const ttl = Math.max(1, Math.ceil(expiresIn || 0));
      return (await redis.onedoorInsertNew(keyFor(this.model, id), JSON.stringify(payload), String(ttl))) === 1;
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const data = await redis.hgetall(keyFor(this.model, id));
      if (!data['payload']) return undefined;
      const payload = JSON.parse(data['payload']) as AdapterPayload;
      if (data['consumed']) payload.consumed = Number(data['consumed']);
      return payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(`oidc:${this.model}:uid:${uid}`);
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(`oidc:${this.model}:userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }

    /** Same contract as the database adapter: the loser of a concurrent redemption gets invalid_grant. */
    async consume(id: string): Promise<void> {
      const won = await redis.onedoorConsume(keyFor(this.model, id), String(Math.floor(Date.now() / 1000)));
      if (won !== 1) throw new errors.InvalidGrant('grant request is invalid');
    }

    async destroy(id: string): Promise<void> {
      await redis.del(keyFor(this.model, id));
    }

    /** Only this model's artifacts issued under the grant (see the database adapter for why). */
    async revokeByGrantId(grantId: string): Promise<void> {
      const grantKey = grantKeyFor(grantId);
      const mine = (await redis.smembers(grantKey)).filter((k) => k.startsWith(keyFor(this.model, '')));
      if (!mine.length) return;
      await redis.multi().del(...mine).srem(grantKey, ...mine).exec();
    }
  };
}
