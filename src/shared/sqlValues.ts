import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * For the few lookups on every request's path that run as plain SQL instead of through
 * TypeORM's query builder (whose statement building costs more than the query itself; see
 * `npm run bench`): identifier quoting and datetime(3) values as each driver returns them.
 */
export function sqlDialect(db: DataSource | EntityManager): { q: (identifier: string) => string } {
  const mysql = isMysql(db);
  return { q: (c) => (mysql ? `\`${c}\`` : `"${c}"`) };
}

/** MySQL/MariaDB (mysql2), as opposed to SQLite. */
export function isMysql(db: DataSource | EntityManager): boolean {
  const type = ('options' in db ? db.options : db.connection.options).type;
  return type === 'mysql' || type === 'mariadb';
}

/** A datetime(3) column as the drivers return it: a Date (mysql2) or UTC text (SQLite). */
export function readSqlDate(v: string | Date | null | undefined): Date | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v : new Date(`${v.replace(' ', 'T')}Z`);
}

/** UTC 'YYYY-MM-DD HH:MM:SS.mmm', the form TypeORM writes datetime(3) columns in on both databases. */
export function writeSqlDate(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

type Db = DataSource | EntityManager;
const connectionOf = (db: Db): DataSource => ('options' in db ? db : db.connection);

/** `alias.column AS alias_column, …` for every column of an entity, for `hydrateEntity`. */
export function entityColumns(db: Db, entity: EntityTarget<ObjectLiteral>, alias: string): string {
  const { q } = sqlDialect(db);
  return connectionOf(db).getMetadata(entity).columns.map((c) => `${q(alias)}.${q(c.databaseName)} AS ${q(`${alias}_${c.databaseName}`)}`).join(', ');
}

/** The entity TypeORM would have built from a row selected with `entityColumns`, column by column through the driver's own conversions. */
export function hydrateEntity<T extends ObjectLiteral>(db: Db, entity: EntityTarget<T>, row: Record<string, unknown>, alias: string): T {
  const ds = connectionOf(db);
  const meta = ds.getMetadata(entity);
  const out = meta.create() as T;
  for (const c of meta.columns) c.setEntityValue(out, ds.driver.prepareHydratedValue(row[`${alias}_${c.databaseName}`], c));
  return out;
}
