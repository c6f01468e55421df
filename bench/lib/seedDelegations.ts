import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { sqlDialect, writeSqlDate } from '../../src/shared/sqlValues.js';

/**
 * Seeds active consent-based delegations (helper → principal) covering one agency and its
 * scopes, as the row a principal's invitation leaves once the helper accepted it: status
 * `active`, basis `consent`, started a minute ago, ending in a year, no invitation code left.
 * Only the delegations: the grants and their `delegated_grants` links are made by the real
 * sign-ins that use them. Multi-row INSERTs of `batch` rows, like seedAccounts.
 */
export async function seedDelegations(opts: {
  ds: DataSource;
  pairs: Array<{ helperId: string; principalId: string; helperEmail: string }>;
  clientId: string;
  /** The scopes the helper may receive, besides `openid`. */
  scopes: string[];
  batch?: number;
}): Promise<Array<{ id: string; helperId: string; principalId: string }>> {
  const { ds } = opts;
  const { q } = sqlDialect(ds);
  const batch = opts.batch ?? 1000;
  const now = Date.now();
  const created = writeSqlDate(new Date(now));
  const starts = writeSqlDate(new Date(now - 60_000));
  const ends = writeSqlDate(new Date(now + 365 * 24 * 3600 * 1000));
  const rows = opts.pairs.map((p) => ({ id: randomUUID(), ...p }));
  const columns = ['id', 'principal_id', 'helper_id', 'invitee_email', 'initiated_by', 'status', 'basis', 'client_ids', 'scopes', 'starts_at', 'ends_at', 'created_at', 'updated_at'];
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  await ds.transaction(async (m) => {
    for (let b = 0; b < rows.length; b += batch) {
      const part = rows.slice(b, b + batch);
      await m.query(`INSERT INTO ${q('delegations')} (${columns.map(q).join(', ')}) VALUES ${part.map(() => tuple).join(', ')}`,
        part.flatMap((r) => [r.id, r.principalId, r.helperId, r.helperEmail, 'principal', 'active', 'consent', JSON.stringify([opts.clientId]), JSON.stringify(opts.scopes), starts, ends, created, created]));
    }
  });
  return rows.map(({ id, helperId, principalId }) => ({ id, helperId, principalId }));
}
