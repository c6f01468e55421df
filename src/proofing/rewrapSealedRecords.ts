import type { EntityManager, ObjectLiteral } from 'typeorm';
import { isMysql, sqlDialect } from '../shared/sqlValues.js';
import { rewrapKeptPhotos } from './documentFront.js';
import { SEALED_COLUMNS, type SealedColumn } from './sealedColumns.js';
import { type Kek, parseSealed, rewrapRecord, serializeSealed, type SealedRecord } from './vault.js';

export interface RewrapColumnReport {
  /** `table.column` */
  name: string;
  /** Re-wrapped under the KEK's first entry by this run. */
  rewrapped: number;
  /** Already under the first entry. */
  current: number;
  /** Still under an older entry: `limit` was reached, or the row kept changing under this run. */
  older: number;
  /** Not re-wrapped and never will be as they are: not a sealed record, a kid in no KEK entry, or a wrap that does not authenticate. */
  unreadable: number;
}

export interface RewrapReport {
  /** The KEK's first entry, under which records are wrapped now. */
  kid: string;
  columns: RewrapColumnReport[];
  /** Records per kid after this run, over every column (unreadable ones not counted). */
  byKid: Record<string, number>;
}

export interface RewrapSealedRecordsOptions {
  db: EntityManager;
  kek: Kek;
  /** Re-wrap at most this many records (0: only count); the rest is left for the next run. */
  limit?: number;
  /** Rows read per query. */
  batchSize?: number;
  columns?: readonly SealedColumn[];
}

// A row someone else keeps changing is re-read this many times before it is left for later.
const TRIES = 3;

type Outcome = { state: 'current' | 'rewrapped' | 'older' | 'unreadable'; kid?: string } | { state: 'changed' } | { state: 'gone' };

/**
 * Re-wraps the data key of every sealed record that is not under the KEK's first entry (after
 * `rotateKek`), column by column (SEALED_COLUMNS), in primary-key order, `batchSize` rows at a
 * time. Each record is written only if it is still what was read (compared byte for byte), so
 * the app sealing a new value meanwhile is never overwritten. Resumable by construction: records
 * already under the first entry are counted, not touched, so running it again after a crash or
 * a `limit` finishes the rest.
 */
export async function rewrapSealedRecords(opts: RewrapSealedRecordsOptions): Promise<RewrapReport> {
  const first = opts.kek.entries[0];
  if (!first) throw new TypeError('vault: the KEK has no entries');
  const { db } = opts;
  const batchSize = opts.batchSize ?? 200;
  let budget = opts.limit ?? Number.POSITIVE_INFINITY;
  const byKid: Record<string, number> = {};
  const tally = (kid: string) => { byKid[kid] = (byKid[kid] ?? 0) + 1; };
  const { q } = sqlDialect(db);
  // Byte-for-byte: MySQL's default collation would call two texts differing in case equal.
  const same = (column: string) => (isMysql(db) ? `CAST(${q(column)} AS BINARY) = :old` : `${q(column)} = :old`);

  const columns: RewrapColumnReport[] = [];
  for (const c of opts.columns ?? SEALED_COLUMNS) {
    const report: RewrapColumnReport = { name: c.name, rewrapped: 0, current: 0, older: 0, unreadable: 0 };
    columns.push(report);
    const meta = db.connection.getMetadata(c.entity);
    const keyColumn = meta.findColumnWithPropertyName(c.key)!.databaseName;
    const sealedColumn = meta.findColumnWithPropertyName(c.column)!.databaseName;
    const repo = db.getRepository(c.entity);

    /** Writes `next` only over `text`; true when it did. */
    const swap = async (key: unknown, text: string, next: string): Promise<boolean> => {
      const res = await db.createQueryBuilder().update(c.entity).set({ [c.column]: next } as never)
        .where(`${q(keyColumn)} = :key AND ${same(sealedColumn)}`, { key, old: text }).execute();
      return (res.affected ?? 0) > 0;
    };

    const known = (kid: string) => opts.kek.entries.some((e) => e.kid === kid);

    /** One look at one row: what it is, or re-wraps it when `mayWrite`. */
    const once = async (row: ObjectLiteral, mayWrite: boolean): Promise<Outcome> => {
      const text = row[c.column] as string | null | undefined;
      if (text === null || text === undefined) return { state: 'gone' };
      let sealed: SealedRecord;
      try {
        sealed = parseSealed(text);
      } catch {
        return { state: 'unreadable' };
      }
      if (sealed.kid === first.kid) return { state: 'current', kid: first.kid };
      if (!known(sealed.kid)) return { state: 'unreadable', kid: sealed.kid };
      if (!mayWrite) return { state: 'older', kid: sealed.kid };
      let next: string;
      try {
        next = serializeSealed(rewrapRecord({ kek: opts.kek, sealed, aad: c.aad(row) }));
      } catch {
        // A wrap that does not authenticate: tampered, or copied from another row.
        return { state: 'unreadable', kid: sealed.kid };
      }
      return (await swap(row[c.key], text, next)) ? { state: 'rewrapped', kid: first.kid } : { state: 'changed' };
    };

    /** One row to its end state, read again when it changed under us. */
    const settle = async (start: ObjectLiteral): Promise<void> => {
      let row: ObjectLiteral | null = start;
      for (let attempt = 1; row; attempt += 1) {
        const outcome = await once(row, budget > 0 && attempt <= TRIES);
        if (outcome.state === 'gone') return;
        if (outcome.state !== 'changed') {
          report[outcome.state] += 1;
          if (outcome.kid) tally(outcome.kid);
          if (outcome.state === 'rewrapped') budget -= 1;
          return;
        }
        row = await repo.findOneBy({ [c.key]: row[c.key] } as never);
      }
    };

    let after: unknown;
    for (;;) {
      const qb = repo.createQueryBuilder('r').where(`r.${c.column} IS NOT NULL`).orderBy(`r.${c.key}`, 'ASC').limit(batchSize);
      if (after !== undefined) qb.andWhere(`r.${c.key} > :after`, { after });
      const rows = await qb.getMany();
      for (const row of rows) await settle(row);
      if (rows.length < batchSize) break;
      after = rows[rows.length - 1]![c.key];
    }
  }
  // Kept photos are sealed bytes in parts, not a text column: their own walk (documentFront.ts).
  const photos: RewrapColumnReport = { name: 'proofing_images.data', rewrapped: 0, current: 0, older: 0, unreadable: 0 };
  for (const photo of await rewrapKeptPhotos({ db, kek: opts.kek, limit: budget })) {
    photos[photo.state] += 1;
    if (photo.kid) tally(photo.kid);
  }
  columns.push(photos);
  return { kid: first.kid, columns, byKid };
}
