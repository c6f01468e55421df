import type { Redis } from 'ioredis';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { InsertNew } from './createAdapter.js';

/**
 * The oidc-provider models kept in Redis when REDIS_URL is set: short-lived, written or read on
 * every step of a sign-in or token request. Losing them (a Redis restart, docs/operators.md)
 * restarts sign-ins in progress, signs people out of OneDoor (sessions) and voids
 * client-credentials tokens (agencies ask for new ones). Sessions are indexed by account so that
 * "sign out everywhere", a delegation's end and an identity's end can list and end them (see
 * `AccountSessions`). What must outlive Redis stays in the database: Grant (an agency's
 * consent), AccessToken and RefreshToken (their holders would be signed out of every agency;
 * ending an identity finds IAL2 grants through them), CIBA requests, and ReplayDetection: a
 * client assertion's `jti` must stay refused until the assertion expires, and a Redis restarted
 * empty would forget it (one INSERT per token request, docs/performance.md).
 */
export const REDIS_MODELS: ReadonlySet<string> = new Set(['Session', 'Interaction', 'AuthorizationCode', 'PushedAuthorizationRequest', 'ClientCredentials']);

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

/**
 * Writes an artifact and its lookups in one command: KEYS = artifact, grant set, uid key,
 * user-code key, account set; ARGV = payload, ttl, id, the artifact key as stored in sets
 * (without the client's prefix), then '1'/'0' for each of the four lookups. A set lives as
 * long as the longest artifact in it.
 */
const UPSERT = `
local ttl = tonumber(ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
redis.call('EXPIRE', KEYS[1], ttl)
local function index(key, member)
  redis.call('SADD', key, member)
  if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
end
if ARGV[5] == '1' then index(KEYS[2], ARGV[4]) end
if ARGV[6] == '1' then redis.call('SET', KEYS[3], ARGV[3], 'EX', ttl) end
if ARGV[7] == '1' then redis.call('SET', KEYS[4], ARGV[3], 'EX', ttl) end
if ARGV[8] == '1' then index(KEYS[5], ARGV[3]) end
return 1`;

/**
 * An account's sessions: KEYS[1] = its set of session ids; ARGV = the key prefix of a session
 * (client prefix included), the account id, and '1' to delete them. Returns the payloads of
 * the sessions still signed in as that account; ids of sessions gone or now someone else's
 * leave the set. One command, so a session saved meanwhile is either listed or not yet indexed.
 */
const ACCOUNT_SESSIONS = `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  local payload = redis.call('HGET', key, 'payload')
  local mine = false
  if payload then
    local ok, decoded = pcall(cjson.decode, payload)
    mine = ok and decoded['accountId'] == ARGV[2]
  end
  if mine then
    table.insert(out, id)
    table.insert(out, payload)
    if ARGV[3] == '1' then redis.call('DEL', key) end
  end
  if not mine or ARGV[3] == '1' then redis.call('SREM', KEYS[1], id) end
end
return out`;

/** Deletes the artifacts of one model issued under a grant: KEYS[1] = the grant's set; ARGV = the model's key start, the client prefix. */
const REVOKE_BY_GRANT = `
local n = 0
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if string.sub(member, 1, string.len(ARGV[1])) == ARGV[1] then
    redis.call('DEL', ARGV[2] .. member)
    redis.call('SREM', KEYS[1], member)
    n = n + 1
  end
end
return n`;

/** Follows a lookup key (uid, user code) to its artifact: KEYS[1] = lookup; ARGV[1] = the artifact key start with the client prefix. */
const FIND_BY_LOOKUP = `
local id = redis.call('GET', KEYS[1])
if not id then return {} end
return redis.call('HGETALL', ARGV[1] .. id)`;

type RedisWithScripts = Redis & {
  onedoorFindByLookup(lookupKey: string, artifactStart: string): Promise<string[]>;
  onedoorRevokeByGrant(grantKey: string, modelStart: string, prefix: string): Promise<number>;
  onedoorConsume(key: string, now: string): Promise<number>;
  onedoorInsertNew(key: string, payload: string, ttl: string): Promise<number>;
  onedoorUpsert(...args: string[]): Promise<number>;
  onedoorAccountSessions(setKey: string, sessionPrefix: string, accountId: string, remove: string): Promise<string[]>;
};

/** HGETALL's answer to a script comes as [field, value, …]. */
const pairs = (flat: string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
};

function toPayload(data: Record<string, string>): AdapterPayload | undefined {
  if (!data['payload']) return undefined;
  const payload = JSON.parse(data['payload']) as AdapterPayload;
  if (data['consumed']) payload.consumed = Number(data['consumed']);
  return payload;
}

/**
 * Listing and ending an account's sessions, whichever store holds them (both adapters have it):
 * "sign out everywhere", the end of a delegation or of an identity reach every session.
 */
export interface AccountSessions {
  findByAccount(accountId: string): Promise<Array<{ id: string; payload: AdapterPayload }>>;
  /** Ends them all; returns how many there were. */
  destroyByAccount(accountId: string): Promise<Array<{ id: string; payload: AdapterPayload }>>;
}

/**
 * oidc-provider's adapter interface over Redis (ioredis), after the upstream example adapter:
 * one hash per artifact (`payload`, `consumed`) with the artifact's TTL, a set per grant naming
 * the keys issued under it (revokeByGrantId), and lookup keys for `uid` and `userCode`.
 * Keys are relative to the client's `keyPrefix`.
 */
export function createRedisAdapter(opts: { redis: Redis }): new (name: string) => Adapter & InsertNew & Partial<AccountSessions> {
  if (!('onedoorConsume' in opts.redis)) opts.redis.defineCommand('onedoorConsume', { numberOfKeys: 1, lua: CONSUME });
  if (!('onedoorInsertNew' in opts.redis)) opts.redis.defineCommand('onedoorInsertNew', { numberOfKeys: 1, lua: INSERT_NEW });
  if (!('onedoorUpsert' in opts.redis)) opts.redis.defineCommand('onedoorUpsert', { numberOfKeys: 5, lua: UPSERT });
  if (!('onedoorFindByLookup' in opts.redis)) opts.redis.defineCommand('onedoorFindByLookup', { numberOfKeys: 1, lua: FIND_BY_LOOKUP });
  if (!('onedoorRevokeByGrant' in opts.redis)) opts.redis.defineCommand('onedoorRevokeByGrant', { numberOfKeys: 1, lua: REVOKE_BY_GRANT });
  if (!('onedoorAccountSessions' in opts.redis)) opts.redis.defineCommand('onedoorAccountSessions', { numberOfKeys: 1, lua: ACCOUNT_SESSIONS });
  const redis = opts.redis as RedisWithScripts;
  const prefix = opts.redis.options.keyPrefix ?? '';

  const keyFor = (model: string, id: string) => `oidc:${model}:${id}`;
  const grantKeyFor = (grantId: string) => `oidc:grant:${grantId}`;
  const accountKeyFor = (model: string, accountId: string) => `oidc:account:${model}:${accountId}`;
  const flag = (b: unknown) => (b ? '1' : '0');

  return class RedisAdapter implements Adapter, InsertNew, AccountSessions {
    readonly model: string;

    constructor(name: string) {
      if (!REDIS_MODELS.has(name)) throw new Error(`${name} is not kept in Redis`);
      this.model = name;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = keyFor(this.model, id);
      const ttl = Math.max(1, Math.ceil(expiresIn || 0));
      const byAccount = this.model === 'Session' && typeof payload.accountId === 'string';
      await redis.onedoorUpsert(
        key, grantKeyFor(payload.grantId ?? '-'), `oidc:${this.model}:uid:${payload.uid ?? '-'}`, `oidc:${this.model}:userCode:${payload.userCode ?? '-'}`,
        accountKeyFor(this.model, byAccount ? String(payload.accountId) : '-'),
        JSON.stringify(payload), String(ttl), id, key, flag(payload.grantId), flag(payload.uid), flag(payload.userCode), flag(byAccount),
      );
    }

    async findByAccount(accountId: string): Promise<Array<{ id: string; payload: AdapterPayload }>> {
      return this.#sessions(accountId, false);
    }

    async destroyByAccount(accountId: string): Promise<Array<{ id: string; payload: AdapterPayload }>> {
      return this.#sessions(accountId, true);
    }

    async #sessions(accountId: string, remove: boolean): Promise<Array<{ id: string; payload: AdapterPayload }>> {
      if (this.model !== 'Session') throw new Error('only sessions are listed by account');
      const flat = await redis.onedoorAccountSessions(accountKeyFor(this.model, accountId), `${prefix}${keyFor(this.model, '')}`, accountId, flag(remove));
      const out: Array<{ id: string; payload: AdapterPayload }> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i]!, payload: JSON.parse(flat[i + 1]!) as AdapterPayload });
      return out;
    }

    /** Only for artifacts without grant, uid or user code (replay ids): SET NX is the claim. */
    async insertNew(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
      if (payload.grantId || payload.uid || payload.userCode) throw new Error('insertNew is for plain artifacts');
      const ttl = Math.max(1, Math.ceil(expiresIn || 0));
      return (await redis.onedoorInsertNew(keyFor(this.model, id), JSON.stringify(payload), String(ttl))) === 1;
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return toPayload(await redis.hgetall(keyFor(this.model, id)));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toPayload(pairs(await redis.onedoorFindByLookup(`oidc:${this.model}:uid:${uid}`, `${prefix}${keyFor(this.model, '')}`)));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toPayload(pairs(await redis.onedoorFindByLookup(`oidc:${this.model}:userCode:${userCode}`, `${prefix}${keyFor(this.model, '')}`)));
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
      await redis.onedoorRevokeByGrant(grantKeyFor(grantId), keyFor(this.model, ''), prefix);
    }
  };
}
