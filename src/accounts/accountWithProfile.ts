import type { DataSource } from 'typeorm';
import { Account } from '../../entities/index.js';
import { profileColumns, profileFromRow, type ProfileRow } from '../proofing/verifiedProfiles.js';
import { entityColumns, hydrateEntity, sqlDialect } from '../shared/sqlValues.js';

const statements = new WeakMap<DataSource, { plain: string; withLink: string }>();

export type ProfileStateOf = ReturnType<typeof profileFromRow>;

export interface AccountWithProfile {
  account: Account | null;
  profile: ProfileStateOf;
  /** When asked with a grant id: the delegation that grant was made under, if any. */
  delegationLink?: { grantId: string; delegationId: string | undefined };
}

/**
 * An account and its verified-profile state in one statement: both are needed on every token
 * request and sign-in (the account's status, its claims, its IAL), and two round trips to the
 * database cost twice what one does (`npm run bench`). The account comes back as the entity
 * TypeORM would have built, column by column through the driver's own conversions. Given the
 * grant a token was issued under, the same statement also says which delegation that grant
 * belongs to, the other question every token use asks.
 */
export async function accountWithProfile(ds: DataSource, accountId: string, opts: { grantId?: string | undefined } = {}): Promise<AccountWithProfile> {
  let sql = statements.get(ds);
  if (!sql) {
    const { q } = sqlDialect(ds);
    const columns = entityColumns(ds, Account, 'a');
    const from = `FROM ${q(ds.getMetadata(Account).tableName)} ${q('a')} LEFT JOIN ${q('verified_profiles')} ${q('p')} ON ${q('p')}.${q('account_id')} = ${q('a')}.${q('id')} WHERE ${q('a')}.${q('id')} = ?`;
    const link = `(SELECT ${q('delegation_id')} FROM ${q('delegated_grants')} WHERE ${q('grant_id')} = ?) AS ${q('delegationId')}`;
    sql = { plain: `SELECT ${columns}, ${profileColumns(ds, 'p')} ${from}`, withLink: `SELECT ${columns}, ${profileColumns(ds, 'p')}, ${link} ${from}` };
    statements.set(ds, sql);
  }
  const { grantId } = opts;
  const rows = (await ds.query(grantId ? sql.withLink : sql.plain, grantId ? [grantId, accountId] : [accountId])) as Array<Record<string, unknown> & ProfileRow & { delegationId?: string | null }>;
  const row = rows[0];
  if (!row) return { account: null, profile: {} };
  const account = hydrateEntity(ds, Account, row, 'a');
  return { account, profile: profileFromRow(row), ...(grantId ? { delegationLink: { grantId, delegationId: row.delegationId ?? undefined } } : {}) };
}
