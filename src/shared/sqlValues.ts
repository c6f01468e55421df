import type { DataSource, EntityManager } from 'typeorm';

/**
 * For the few lookups on every request's path that run as plain SQL instead of through
 * TypeORM's query builder (whose statement building costs more than the query itself; see
 * `npm run bench`): identifier quoting and datetime(3) values as each driver returns them.
 */
export function sqlDialect(db: DataSource | EntityManager): { q: (identifier: string) => string } {
  const type = ('options' in db ? db.options : db.connection.options).type;
  const mysql = type === 'mysql' || type === 'mariadb';
  return { q: (c) => (mysql ? `\`${c}\`` : `"${c}"`) };
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
