import type { DataSource } from 'typeorm';
import { clock } from '../../shared/clock.js';

/**
 * A fixed-window counter in the `rate_limits` table, shared by every node on the database.
 * One statement adds the points (or starts a new window when the old one ended) under the row's
 * lock, so concurrent requests on any node each see a distinct count. Time is the domain clock
 * (the wall clock in production), so tests can move past a window as they do past a code's expiry.
 */
export async function consumeDatabasePoints(opts: { ds: DataSource; key: string; points: number; durationSeconds: number; limit: number }): Promise<{ consumed: number; msBeforeNext: number }> {
  const now = clock.nowMs();
  const expiresAt = now + opts.durationSeconds * 1000;
  if (opts.ds.options.type === 'mysql') {
    // One statement, one round trip (a limiter runs on every page post and token call): MySQL
    // has no RETURNING, so the new count comes back as the statement's insert id through
    // LAST_INSERT_ID(expr), which is per connection and so safe under concurrency. Assignments
    // run left to right: `points` must read the old `expires_at`, so it comes first.
    const res = await opts.ds.query(
      'INSERT INTO rate_limits (limit_key, points, expires_at) VALUES (?, LAST_INSERT_ID(?), ?) ON DUPLICATE KEY UPDATE '
      + 'points = LAST_INSERT_ID(IF(expires_at <= ?, VALUES(points), points + VALUES(points))), expires_at = IF(expires_at <= ?, VALUES(expires_at), expires_at)',
      [opts.key, opts.points, expiresAt, now, now],
    ) as { insertId: number | string };
    const consumed = Number(res.insertId);
    if (consumed <= opts.limit) return { consumed, msBeforeNext: 0 };
    // Over the limit (rare): read when the window ends, for Retry-After.
    const rows = await opts.ds.query('SELECT expires_at FROM rate_limits WHERE limit_key = ?', [opts.key]) as Array<{ expires_at: number | string }>;
    return { consumed, msBeforeNext: Math.max(0, Number(rows[0]?.expires_at ?? expiresAt) - now) };
  }
  const rows = await opts.ds.query(
    'INSERT INTO rate_limits (limit_key, points, expires_at) VALUES (?, ?, ?) ON CONFLICT(limit_key) DO UPDATE SET '
    + 'points = CASE WHEN expires_at <= ? THEN excluded.points ELSE points + excluded.points END, '
    + 'expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at ELSE expires_at END RETURNING points, expires_at',
    [opts.key, opts.points, expiresAt, now, now],
  ) as Array<{ points: number; expires_at: number }>;
  return { consumed: Number(rows[0]!.points), msBeforeNext: Math.max(0, Number(rows[0]!.expires_at) - now) };
}

/** Deletes counters whose window ended. Returns how many went. */
export async function purgeExpiredRateLimits(ds: DataSource): Promise<number> {
  const result = await ds.createQueryBuilder().delete().from('rate_limits').where('expires_at < :now', { now: clock.nowMs() }).execute();
  return result.affected ?? 0;
}
