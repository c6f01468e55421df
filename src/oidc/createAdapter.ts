import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { type DataSource, IsNull, LessThan, LessThanOrEqual } from 'typeorm';
import { OidcPayload } from '../../entities/index.js';
import { deleteGrants } from '../accounts/deleteGrants.js';
import { scopesForMaxIal } from './claims.js';
import type { AccountSessions } from './createRedisAdapter.js';
import { grantCacheOf } from '../shared/grantCache.js';
import { isMysql, readSqlDate, sqlDialect, writeSqlDate } from '../shared/sqlValues.js';

/** At most this many artifact reads share one statement. */
const MAX_READS_PER_STATEMENT = 50;

/**
 * Artifacts oidc-provider reports the expiry of itself, kept this many seconds past it: a CIBA
 * request an agency polls after it expired must answer `expired_token` (CIBA Core §11), not
 * `invalid_grant` as an artifact that never existed would. oidc-provider checks their `exp`.
 */
const KEPT_PAST_EXPIRY_SECONDS: Readonly<Record<string, number>> = { BackchannelAuthenticationRequest: 600 };

/** How long a node keeps a client's metadata before reading it again (docs/operators.md: Clients). */
export const CLIENT_CACHE_MS = 1000;

/**
 * Stores an artifact only if no live one has its id, in one step that concurrent callers
 * cannot both win: true for the caller that stored it. Both adapters have it; see
 * `claimReplayIds` in createProvider.ts for why.
 */
export interface InsertNew {
  insertNew(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean>;
}

/**
 * oidc-provider's adapter interface over TypeORM: every protocol artifact (Session,
 * Interaction, AuthorizationCode, AccessToken, RefreshToken, Grant, PAR, ReplayDetection…)
 * is one row of `oidc_payloads`, so a restart loses nothing and any process on the same
 * database can continue any flow. Clients are read from `oidc_clients`.
 *
 * Expiry follows the wall clock, as oidc-provider's own checks do.
 */
export function createAdapter(ds: DataSource): new (name: string) => Adapter & InsertNew & AccountSessions {
  const payloads = ds.getRepository(OidcPayload);
  const mysql = isMysql(ds);
  const { q } = sqlDialect(ds);

  // The adapter is on every request's path, several times over: its reads and writes are plain
  // SQL on the primary key (same table, same columns as the entity), which costs a fraction of
  // building each statement through the query builder (`npm run bench` profiles this).
  const COLUMNS = ['payload', 'expires_at', 'consumed_at'].map(q).join(', ');
  const FIND_BY = (column: string) => `SELECT ${COLUMNS} FROM ${q('oidc_payloads')} WHERE ${q('model')} = ? AND ${q(column)} = ? LIMIT 1`;
  const UPSERT_COLUMNS = ['model', 'id', 'payload', 'grant_id', 'user_code', 'uid', 'account_id', 'expires_at', 'consumed_at'];
  const UPDATED = UPSERT_COLUMNS.slice(2);
  const UPSERT = `INSERT INTO ${q('oidc_payloads')} (${UPSERT_COLUMNS.map(q).join(', ')}) VALUES (${UPSERT_COLUMNS.map(() => '?').join(', ')}) ` + (mysql
    ? `ON DUPLICATE KEY UPDATE ${UPDATED.map((c) => `${q(c)} = VALUES(${q(c)})`).join(', ')}`
    : `ON CONFLICT (${q('model')}, ${q('id')}) DO UPDATE SET ${UPDATED.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`);

  const INSERT = `INSERT INTO ${q('oidc_payloads')} (${UPSERT_COLUMNS.map(q).join(', ')}) VALUES (${UPSERT_COLUMNS.map(() => '?').join(', ')})`;
  const isDuplicateKey = (err: unknown) => {
    const code = (err as { driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
    return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
  };

  const FIND_CLIENT = `SELECT ${q('client_id')}, ${q('metadata')} FROM ${q('oidc_clients')} WHERE ${q('client_id')} = ?`;
  // An agency's client is read on every token request and several times per sign-in, and only
  // changes when an operator runs `onedoor clients add --replace` or `remove`: each node keeps
  // what it read for CLIENT_CACHE_MS, so such a change reaches every node within that (docs/operators.md).
  // Only ids that are exactly a client's are kept (MySQL's collation would also match the id
  // with trailing spaces), so the cache is no bigger than the list of clients.
  const clientRows = new Map<string, { metadata: string; until: number }>();

  type Row = { payload: string; expires_at: string | Date | null; consumed_at: string | Date | null };
  const first = async (sql: string, params: unknown[]) => ((await ds.query(sql, params)) as Row[])[0];

  function toPayload(row: Row | undefined): AdapterPayload | undefined {
    if (!row) return undefined;
    const expiresAt = readSqlDate(row.expires_at);
    if (expiresAt && expiresAt.getTime() <= Date.now()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    const consumedAt = readSqlDate(row.consumed_at);
    if (consumedAt) payload.consumed = Math.floor(consumedAt.getTime() / 1000);
    return payload;
  }

  // Reads asked for in the same turn of the event loop go to the database as one statement.
  // oidc-provider looks a presented token up as an access token, a client-credentials token and
  // a refresh token at once (introspection, revocation), and reads of concurrent requests often
  // meet in the same turn: each statement is a round trip, and round trips are what a token
  // request costs (`npm run bench`).
  type Wanted = { model: string; id: string; resolve: (row: Row | undefined) => void; reject: (err: unknown) => void };
  let wanted: Wanted[] = [];
  const findMany: string[] = [];
  const FIND_MANY = (n: number) => (findMany[n] ??= `SELECT ${q('model')}, ${q('id')}, ${COLUMNS} FROM ${q('oidc_payloads')} WHERE ${Array.from({ length: n }, () => `(${q('model')} = ? AND ${q('id')} = ?)`).join(' OR ')}`);
  async function readBatch(batch: Wanted[]): Promise<void> {
    try {
      const rows = (await ds.query(FIND_MANY(batch.length), batch.flatMap((w) => [w.model, w.id]))) as Array<Row & { model: string; id: string }>;
      // Matched exactly as asked: a collation that ignores trailing spaces must not hand back another id's row.
      const byKey = new Map(rows.map((r) => [`${r.model}\n${r.id}`, r]));
      for (const w of batch) w.resolve(byKey.get(`${w.model}\n${w.id}`));
    } catch (err) {
      // One failure answers every waiting request: the error must not carry the others' token ids.
      for (const w of batch) w.reject(withoutValues(err));
    }
  }
  function flushReads(): void {
    const batch = wanted;
    wanted = [];
    for (let i = 0; i < batch.length; i += MAX_READS_PER_STATEMENT) void readBatch(batch.slice(i, i + MAX_READS_PER_STATEMENT));
  }
  const readRow = (model: string, id: string) => new Promise<Row | undefined>((resolve, reject) => {
    wanted.push({ model, id, resolve, reject });
    if (wanted.length === 1) setImmediate(flushReads);
  });

  const rowValues = (model: string, id: string, payload: AdapterPayload, expiresIn: number) => [
    model, id, JSON.stringify(payload), payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null,
    payload.accountId ?? null, expiresIn ? writeSqlDate(new Date(Date.now() + (expiresIn + (KEPT_PAST_EXPIRY_SECONDS[model] ?? 0)) * 1000)) : null, null,
  ];

  return class TypeormAdapter implements Adapter, InsertNew, AccountSessions {
    readonly model: string;

    constructor(name: string) {
      this.model = name;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed with `onedoor clients`');
      await ds.query(UPSERT, rowValues(this.model, id, payload, expiresIn));
      // The consent changed: the copy token requests read becomes what was written.
      const cache = this.model === 'Grant' ? grantCacheOf(ds) : undefined;
      if (cache) await cache.replace(id, JSON.stringify(payload), expiresIn ? Date.now() + expiresIn * 1000 : null);
    }

    async insertNew(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
      try {
        await ds.query(INSERT, rowValues(this.model, id, payload, expiresIn));
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      // The id is taken, unless by a leftover whose artifact has expired (not purged yet).
      const now = new Date();
      const result = await payloads.update(
        { model: this.model, id, expiresAt: LessThanOrEqual(now) },
        { payload: JSON.stringify(payload), expiresAt: new Date(now.getTime() + expiresIn * 1000), consumedAt: null },
      );
      return result.affected === 1;
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const now = Date.now();
        let row = clientRows.get(id);
        if (!row || row.until <= now) {
          const found = ((await ds.query(FIND_CLIENT, [id])) as Array<{ client_id: string; metadata: string }>).find((r) => r.client_id === id);
          if (!found) {
            clientRows.delete(id);
            return undefined;
          }
          row = { metadata: found.metadata, until: now + CLIENT_CACHE_MS };
          clientRows.set(id, row);
        }
        // Parsed afresh each time: oidc-provider may keep and change the object it is given.
        const metadata = JSON.parse(row.metadata) as AdapterPayload & { scope?: string; max_ial?: number };
        // A client may ask for the scopes its max_ial allows (identity scopes need max_ial 2).
        metadata.scope ??= scopesForMaxIal(metadata.max_ial ?? 1).join(' ');
        return metadata;
      }
      if (this.model === 'Grant') {
        // Read on every token request: from its Redis copy when there is one (src/shared/grantCache.ts).
        const cache = grantCacheOf(ds);
        if (cache) {
          const copy = await cache.get(id);
          if (copy) return JSON.parse(copy.payload) as AdapterPayload;
          const row = await readRow(this.model, id);
          const payload = toPayload(row);
          if (payload && row) await cache.fill(id, row.payload, readSqlDate(row.expires_at)?.getTime() ?? null);
          return payload;
        }
      }
      return toPayload(await readRow(this.model, id));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toPayload(await first(FIND_BY('user_code'), [this.model, userCode]));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toPayload(await first(FIND_BY('uid'), [this.model, uid]));
    }

    /**
     * Marks a one-time artifact (authorization code, rotated refresh token…) used. The update
     * only matches an unconsumed row, so of two concurrent redemptions exactly one wins; the
     * loser gets `invalid_grant` as if it had seen the artifact consumed.
     */
    async consume(id: string): Promise<void> {
      const result = await payloads.update({ model: this.model, id, consumedAt: IsNull() }, { consumedAt: new Date() });
      if (!result.affected) throw new errors.InvalidGrant('grant request is invalid');
    }

    async destroy(id: string): Promise<void> {
      if (this.model === 'Grant') {
        await deleteGrants({ db: ds.manager, grantIds: [id] });
        return;
      }
      await payloads.delete({ model: this.model, id });
    }

    async findByAccount(accountId: string): Promise<Array<{ id: string; payload: AdapterPayload }>> {
      if (this.model !== 'Session') throw new Error('only sessions are listed by account');
      const rows = await payloads.findBy({ model: this.model, accountId });
      return rows.map((r) => ({ id: r.id, payload: JSON.parse(r.payload) as AdapterPayload }));
    }

    async destroyByAccount(accountId: string): Promise<Array<{ id: string; payload: AdapterPayload }>> {
      const found = await this.findByAccount(accountId);
      await payloads.delete({ model: this.model, accountId });
      return found;
    }

    /**
     * oidc-provider calls this on each model that is issued under a grant (codes, tokens) when
     * the grant is revoked, e.g. at logout: only this model's artifacts go. An Interaction also
     * names the grant it loaded, and must survive (the person switching accounts logs the old
     * one out, then the same authorization resumes).
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      await payloads.delete({ grantId, model: this.model });
    }
  };
}

/**
 * The error of a statement that held several requests' values (token ids), without them: TypeORM
 * copies the parameters, and mysql2 the statement with its values inlined, onto the error.
 */
function withoutValues(err: unknown): unknown {
  if (!err || typeof err !== 'object') return err;
  const e = err as { parameters?: unknown; sql?: unknown; driverError?: { sql?: unknown } };
  if ('parameters' in e) e.parameters = [];
  if ('sql' in e) e.sql = '';
  if (e.driverError && typeof e.driverError === 'object' && 'sql' in e.driverError) e.driverError.sql = '';
  return err;
}

/** Deletes artifacts that expired more than `graceSeconds` ago. Returns how many went. */
export async function purgeExpiredPayloads(ds: DataSource, graceSeconds = 60): Promise<number> {
  const result = await ds.getRepository(OidcPayload).delete({ expiresAt: LessThan(new Date(Date.now() - graceSeconds * 1000)) });
  return result.affected ?? 0;
}
