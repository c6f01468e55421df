import type { DataSource, EntityManager } from 'typeorm';
import { readSqlDate, sqlDialect } from '../shared/sqlValues.js';

export interface OwnGrant {
  id: string;
  clientId: string;
  scopes: string[];
  expiresAt: Date | null;
}

/**
 * The consents a person gave agencies themself (oidc-provider Grants), live now, newest first.
 * A grant a helper received while acting for someone else is stored under the helper's account
 * too, but it is the delegation's, not the helper's: it is never one of these (DESIGN.md: a
 * delegated grant and a person's own grant are never found for one another).
 */
export async function listOwnGrants(opts: { db: DataSource | EntityManager; accountId: string; clientId?: string }): Promise<OwnGrant[]> {
  const { q } = sqlDialect(opts.db);
  // Plain SQL on the (account, model) index: asked at every sign-in at an agency from a new browser.
  const rows = (await opts.db.query(
    `SELECT ${q('p')}.${q('id')}, ${q('p')}.${q('payload')}, ${q('p')}.${q('expires_at')} FROM ${q('oidc_payloads')} ${q('p')} `
    + `WHERE ${q('p')}.${q('account_id')} = ? AND ${q('p')}.${q('model')} = 'Grant' `
    + `AND NOT EXISTS (SELECT 1 FROM ${q('delegated_grants')} ${q('dg')} WHERE ${q('dg')}.${q('grant_id')} = ${q('p')}.${q('id')}) `
    + `ORDER BY ${q('p')}.${q('expires_at')} DESC`,
    [opts.accountId],
  )) as Array<{ id: string; payload: string; expires_at: string | Date | null }>;
  const now = Date.now();
  return rows.flatMap((r) => {
    const expiresAt = readSqlDate(r.expires_at);
    if (expiresAt && expiresAt.getTime() <= now) return [];
    const payload = JSON.parse(r.payload) as { clientId?: string; openid?: { scope?: string } };
    if (!payload.clientId || (opts.clientId !== undefined && payload.clientId !== opts.clientId)) return [];
    return [{ id: r.id, clientId: payload.clientId, scopes: (payload.openid?.scope ?? '').split(' ').filter(Boolean), expiresAt }];
  });
}
