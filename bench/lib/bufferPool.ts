import type { DataSource } from 'typeorm';

const MiB = 1024 * 1024;
/** InnoDB resizes in whole chunks (innodb_buffer_pool_chunk_size × instances, 128 MiB by default). */
const CHUNK = 128 * MiB;

/**
 * Sizes MariaDB's buffer pool to hold `schema`'s data and indexes (with a quarter to spare),
 * as a production server would be sized to its hot data, never below what it was and never
 * above half of `maxBytes`; `restore()` puts the old size back. `SET GLOBAL
 * innodb_buffer_pool_size` resizes online in the background, so this waits until the server
 * says the resize is done.
 */
export async function sizeBufferPool(opts: { admin: DataSource; schema: string; maxBytes: number }): Promise<{ dataMiB: number; beforeMiB: number; duringMiB: number; restore(): Promise<void> }> {
  const { admin } = opts;
  const value = async (sql: string, params: unknown[] = []) => Number(Object.values((await admin.query(sql, params))[0] as Record<string, unknown>)[0] ?? 0);
  const data = await value('SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.TABLES WHERE table_schema = ?', [opts.schema]);
  const before = await value('SELECT @@GLOBAL.innodb_buffer_pool_size');
  const wanted = Math.min(Math.floor(opts.maxBytes / 2 / CHUNK) * CHUNK, Math.ceil((data * 1.25) / CHUNK) * CHUNK);
  const set = async (bytes: number) => {
    if (bytes === (await value('SELECT @@GLOBAL.innodb_buffer_pool_size'))) return;
    await admin.query(`SET GLOBAL innodb_buffer_pool_size = ${Math.round(bytes)}`);
    for (let i = 0; i < 600; i += 1) {
      const rows = await admin.query(`SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_resize_status'`) as Array<Record<string, string>>;
      const status = String(Object.values(rows[0] ?? {})[1] ?? '');
      if (!status || /completed|finished|^$/i.test(status) || !/resiz|withdraw|allocat/i.test(status)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const during = Math.max(before, wanted);
  await set(during);
  return {
    dataMiB: Math.round(data / MiB),
    beforeMiB: Math.round(before / MiB),
    duringMiB: Math.round((await value('SELECT @@GLOBAL.innodb_buffer_pool_size')) / MiB),
    restore: () => set(before),
  };
}
