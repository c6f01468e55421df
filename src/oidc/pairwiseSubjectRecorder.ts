import type { DataSource } from 'typeorm';
import { clock } from '../shared/clock.js';
import { isMysql, sqlDialect, writeSqlDate } from '../shared/sqlValues.js';

/** Pairs already written by this process (bounded: forgotten all at once when full, then written again once each). */
const MAX_REMEMBERED = 50_000;

/**
 * Remembers which person a pairwise subject given to a sector stands for (the `pairwise_subjects`
 * index), so that an agency can name a person it knows by that subject (CIBA `login_hint`,
 * `id_token_hint`). Written once per (sector, subject) — the row never changes — and at most once
 * per process for each: oidc-provider computes a subject for every ID token, userinfo and
 * introspection answer.
 */
export function pairwiseSubjectRecorder(ds: DataSource): (opts: { sector: string; subject: string; accountId: string }) => Promise<void> {
  const written = new Set<string>();
  const { q } = sqlDialect(ds);
  const columns = ['sector', 'subject', 'account_id', 'created_at'].map(q).join(', ');
  const sql = `INSERT INTO ${q('pairwise_subjects')} (${columns}) VALUES (?, ?, ?, ?) `
    + (isMysql(ds) ? `ON DUPLICATE KEY UPDATE ${q('sector')} = ${q('sector')}` : 'ON CONFLICT DO NOTHING');
  return async ({ sector, subject, accountId }) => {
    const key = `${sector}\n${subject}`;
    if (written.has(key)) return;
    await ds.query(sql, [sector, subject, accountId, writeSqlDate(clock.now())]);
    if (written.size >= MAX_REMEMBERED) written.clear();
    written.add(key);
  };
}
