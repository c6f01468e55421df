import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig.js';

/**
 * better-sqlite3 gives TypeORM one connection: without turns, a second request's transaction
 * started while the first was open became a SAVEPOINT inside it, so one request's rollback
 * undid the other's writes, and committing out of order failed with SQLITE_ERROR.
 */
let dir: string;
let ds: DataSource;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-sqlite-tx-'));
  ds = createDataSource({ type: 'sqlite', file: path.join(dir, 'tx.sqlite') });
  await ds.initialize();
  await ds.query('CREATE TABLE note (id INTEGER PRIMARY KEY, who TEXT NOT NULL)');
});

afterAll(async () => {
  await ds.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tick = () => new Promise((r) => setTimeout(r, 5));
const count = async (who: string) => Number((await ds.query('SELECT COUNT(*) AS n FROM note WHERE who = ?', [who]))[0].n);

describe('SQLite transactions of concurrent requests', () => {
  test('when one transaction rolls back while another is open, then only its own writes are undone', async () => {
    const failing = ds.transaction(async (em) => {
      await em.query("INSERT INTO note (who) VALUES ('a')");
      await tick();
      await tick();
      throw new Error('request A fails');
    });
    const fine = ds.transaction(async (em) => {
      await tick();
      await em.query("INSERT INTO note (who) VALUES ('b')");
    });
    const [a, b] = await Promise.allSettled([failing, fine]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('fulfilled');
    expect(await count('a')).toBe(0);
    expect(await count('b')).toBe(1);
  });

  test('when many transactions overlap and finish in any order, then each commits or rolls back alone', async () => {
    const runs = Array.from({ length: 12 }, (_, i) => ds.transaction(async (em) => {
      await em.query('INSERT INTO note (who) VALUES (?)', [`r${i}`]);
      for (let k = 0; k < (i * 7) % 4; k += 1) await tick();
      if (i % 3 === 0) throw new Error('rolled back');
    }));
    const results = await Promise.allSettled(runs);
    for (let i = 0; i < 12; i += 1) {
      expect(results[i]!.status).toBe(i % 3 === 0 ? 'rejected' : 'fulfilled');
      if (results[i]!.status === 'rejected') expect(String((results[i] as PromiseRejectedResult).reason)).toContain('rolled back');
      expect(await count(`r${i}`)).toBe(i % 3 === 0 ? 0 : 1);
    }
  });

  test('when a statement outside any transaction runs while one is open, then it is not undone by its rollback', async () => {
    const failing = ds.transaction(async (em) => {
      await em.query("INSERT INTO note (who) VALUES ('c')");
      await tick();
      throw new Error('fails');
    });
    await tick();
    await ds.query("INSERT INTO note (who) VALUES ('d')");
    await expect(failing).rejects.toThrow('fails');
    expect(await count('c')).toBe(0);
    expect(await count('d')).toBe(1);
  });

  test('when a transaction nests another inside it, then the inner one is a savepoint of the outer', async () => {
    await ds.transaction(async (em) => {
      await em.query("INSERT INTO note (who) VALUES ('outer')");
      await expect(em.transaction(async (inner) => {
        await inner.query("INSERT INTO note (who) VALUES ('inner')");
        throw new Error('inner fails');
      })).rejects.toThrow('inner fails');
      // The data source's own manager, called from inside, joins the same transaction instead of waiting for it.
      await ds.transaction(async (again) => again.query("INSERT INTO note (who) VALUES ('nested-ds')"));
    });
    expect(await count('outer')).toBe(1);
    expect(await count('inner')).toBe(0);
    expect(await count('nested-ds')).toBe(1);
  });
});
