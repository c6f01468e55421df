import type { DataSource } from 'typeorm';
import { sqlDialect } from '../shared/sqlValues.js';

/** A pairwise subject has this shape: an HMAC-SHA-256, base64url (src/oidc/pairwise.ts). */
export const SUBJECT_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** The account a pairwise subject given to this sector stands for, if OneDoor ever gave it. */
export async function accountForSubject(opts: { ds: DataSource; sector: string; subject: string }): Promise<string | undefined> {
  if (!SUBJECT_SHAPE.test(opts.subject)) return undefined;
  const { q } = sqlDialect(opts.ds);
  const rows = (await opts.ds.query(`SELECT ${q('account_id')} AS ${q('accountId')} FROM ${q('pairwise_subjects')} WHERE ${q('sector')} = ? AND ${q('subject')} = ?`, [opts.sector, opts.subject])) as Array<{ accountId: string }>;
  return rows[0]?.accountId;
}
