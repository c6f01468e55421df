import type { DataSource } from 'typeorm';
import { sqlDialect, writeSqlDate } from '../../src/shared/sqlValues.js';
import { BenchPasskey } from './benchPasskey.js';

/**
 * Seeds accounts `from`..`to-1`, each with a passkey (the bench key, its own credential id) and
 * a live grant to `clientId` for `scope` (consent already given), as multi-row INSERTs of
 * `batch` rows inside one transaction per chunk: a million accounts is three million rows, so
 * per-row round trips would take longer than the benchmark itself.
 */
export async function seedAccounts(opts: {
  ds: DataSource;
  passkey: BenchPasskey;
  clientId: string;
  scope: string;
  from: number;
  to: number;
  batch?: number;
  onProgress?: (done: number) => void;
}): Promise<{ rows: number; seconds: number }> {
  const { ds } = opts;
  const batch = opts.batch ?? 1000;
  const { q } = sqlDialect(ds);
  const now = new Date();
  const created = writeSqlDate(now);
  const grantExpires = writeSqlDate(new Date(now.getTime() + 365 * 24 * 3600 * 1000));
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + 365 * 24 * 3600;
  const t0 = performance.now();
  let rows = 0;

  const insert = async (run: (sql: string, params: unknown[]) => Promise<unknown>, table: string, columns: string[], values: unknown[][]) => {
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    await run(`INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES ${values.map(() => tuple).join(', ')}`, values.flat());
    rows += values.length;
  };

  const chunk = batch * 10;
  for (let start = opts.from; start < opts.to; start += chunk) {
    const end = Math.min(opts.to, start + chunk);
    await ds.transaction(async (m) => {
      const run = (sql: string, params: unknown[]) => m.query(sql, params);
      for (let b = start; b < end; b += batch) {
        const ns = Array.from({ length: Math.min(batch, end - b) }, (_, i) => b + i);
        await insert(run, 'accounts', ['id', 'email', 'status', 'email_confirmed_at', 'failed_attempts', 'locale', 'created_at'],
          ns.map((n) => [BenchPasskey.accountId(n), `person${n}@bench.example`, 'active', created, 0, 'en', created]));
        await insert(run, 'passkeys', ['id', 'account_id', 'public_key', 'sign_count', 'transports', 'backup_eligible', 'backed_up', 'aaguid', 'name', 'created_at'],
          ns.map((n) => [BenchPasskey.credentialId(n), BenchPasskey.accountId(n), opts.passkey.publicKeyCose, 0, '["internal"]', 1, 1, '00000000-0000-0000-0000-000000000000', 'Bench passkey', created]));
        await insert(run, 'oidc_payloads', ['model', 'id', 'payload', 'account_id', 'expires_at'],
          ns.map((n) => {
            const id = `bench-grant-${n}`;
            const payload = { iat, exp, jti: id, kind: 'Grant', accountId: BenchPasskey.accountId(n), clientId: opts.clientId, openid: { scope: opts.scope } };
            return ['Grant', id, JSON.stringify(payload), BenchPasskey.accountId(n), grantExpires];
          }));
      }
    });
    opts.onProgress?.(end);
  }
  return { rows, seconds: (performance.now() - t0) / 1000 };
}
