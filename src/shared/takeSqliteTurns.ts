import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner, ReplicationMode } from 'typeorm';

/**
 * Makes the transactions of a SQLite data source take turns. better-sqlite3 gives TypeORM one
 * connection and one shared query runner, so a second request's `ds.transaction()` started
 * while the first was open became a SAVEPOINT inside it: one request's rollback undid the
 * other's writes, and committing out of order failed with SQLITE_ERROR. Here each top-level
 * transaction waits for the one before it; what runs inside one (in its async context, even
 * through `ds.transaction` or `ds.manager`) joins it as before; and a statement from outside
 * waits until the open transaction ends, so it is never undone by someone else's rollback.
 * SQLite allows one writer at a time anyway; MySQL has a pool and needs none of this.
 */
export function takeSqliteTurns(ds: DataSource): DataSource {
  const owner = new AsyncLocalStorage<symbol>();
  let current: symbol | undefined;
  let turnEnded: Promise<void> = Promise.resolve();
  let queue: Promise<void> = Promise.resolve();
  const outsider = () => current !== undefined && owner.getStore() !== current;

  const driver = ds.driver as unknown as { createQueryRunner(mode: ReplicationMode): QueryRunner };
  const create = driver.createQueryRunner.bind(driver);
  const patched = new WeakSet<QueryRunner>();
  driver.createQueryRunner = (mode: ReplicationMode) => {
    const runner = create(mode);
    if (!patched.has(runner)) {
      patched.add(runner);
      const query = runner.query.bind(runner) as (...a: unknown[]) => Promise<unknown>;
      (runner as { query: unknown }).query = async (...args: unknown[]) => {
        while (outsider()) await turnEnded;
        return query(...args);
      };
    }
    return runner;
  };

  const manager: EntityManager = ds.manager;
  const transaction = manager.transaction.bind(manager) as (...a: unknown[]) => Promise<unknown>;
  (manager as { transaction: unknown }).transaction = async (...args: unknown[]) => {
    // Called from inside the open transaction: it nests (a savepoint), as TypeORM intends.
    if (current !== undefined && owner.getStore() === current) return transaction(...args);
    const before = queue;
    let release!: () => void;
    queue = new Promise((resolve) => (release = resolve));
    await before;
    const token = Symbol('sqlite transaction');
    let endTurn!: () => void;
    turnEnded = new Promise((resolve) => (endTurn = resolve));
    try {
      // A transaction TypeORM opened by itself (a save() outside any transaction) ends first.
      const runner = driver.createQueryRunner('master');
      while (runner.isTransactionActive) await new Promise((resolve) => setImmediate(resolve));
      current = token;
      return await owner.run(token, () => transaction(...args));
    } finally {
      current = undefined;
      endTurn();
      release();
    }
  };
  return ds;
}
