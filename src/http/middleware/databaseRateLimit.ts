import type { DataSource } from 'typeorm';

/**
 * A fixed-window counter in the `rate_limits` table, shared by every node on the database.
 * One statement adds the points (or starts a new window when the old one ended) under the row's
 * lock, so concurrent requests on any node each see a distinct count.
 */
export async function consumeDatabasePoints(opts: { ds: DataSource; key: string; points: number; durationSeconds: number }): Promise<{ consumed: number; msBeforeNext: number }> {
  const now = Date.now();
  const expiresAt = now + opts.durationSeconds * 1000;
  if (opts.ds.options.type === 'mysql') {
    return opts.ds.transaction(async (m) => {
      // MySQL evaluates ON DUPLICATE KEY assignments left to right: `points` must read the old
      // `expires_at`, so it comes first.
      await m.query(
        'INSERT INTO rate_limits (limit_key, points, expires_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE '
        + 'points = IF(expires_at <= ?, VALUES(points), points + VALUES(points)), expires_at = IF(expires_at <= ?, VALUES(expires_at), expires_at)',
        [opts.key, opts.points, expiresAt, now, now],
      );
      const rows = await m.query('SELECT points, expires_at FROM rate_limits WHERE limit_key = ?', [opts.key]) as Array<{ points: number | string; expires_at: number | string }>;
      return { consumed: Number(rows[0]!.points), msBeforeNext: Math.max(0, Number(rows[0]!.expires_at) - now) };
    });
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
  const result = await ds.createQueryBuilder().delete().from('rate_limits').where('expires_at < :now', { now: Date.now() }).execute();
  return result.affected ?? 0;
}
