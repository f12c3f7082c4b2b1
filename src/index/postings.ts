import { hashInList, labelKeysOf, type SqlDialect, type SqlExecutor, type SqlFragment, type SqlValue } from './sql-store.js';

/**
 * Postings and series rows as the index reads them: chunks of packed hashes per label pair
 * (`label_postings`, see the schema) and series rows by hash. Lists of hashes travel in
 * statements of `HASHES_PER_STATEMENT`.
 */

const HASHES_PER_STATEMENT = 1_000;

/** A chunk's hashes: unsigned 64-bit big-endian, in the order given (the writer sorts them). */
export function encodeHashes(hashes: readonly bigint[]): Buffer {
  const packed = Buffer.allocUnsafe(hashes.length * 8);
  hashes.forEach((hash, i) => packed.writeBigUInt64BE(hash, i * 8));
  return packed;
}

export function decodeHashes(value: SqlValue, into: Set<bigint>): void {
  if (!(value instanceof Uint8Array) || value.length % 8 !== 0) throw new TypeError('not a postings chunk');
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  for (let at = 0; at < value.length; at += 8) into.add(view.getBigUint64(at));
}

/** Postings of one label name, restricted to some values or to any value. */
export interface PostingsSelection {
  name: string;
  values: readonly string[] | 'any';
}

/** The hashes of every series carrying the name with one of the values. */
export async function loadPostings(db: SqlExecutor, dialect: SqlDialect, { name, values }: PostingsSelection): Promise<Set<bigint>> {
  const keys = labelKeysOf(dialect);
  const params: SqlValue[] = [keys.keyOf(name)];
  let sql = `SELECT hashes FROM label_postings WHERE ${keys.nameColumn} = ?`;
  if (values !== 'any') {
    const list = dialect.inList(keys.valueColumn, values.map(keys.keyOf));
    sql += ` AND ${list.sql}`;
    params.push(...list.params);
  }
  const hashes = new Set<bigint>();
  for (const row of await db.query<{ hashes: SqlValue }>(sql, params)) decodeHashes(row.hashes, hashes);
  return hashes;
}

/** A series row: its key (`name{a="b",…}`) and its time bounds. */
export interface SeriesRow {
  hash: bigint;
  key: string;
  firstSeen: number;
  lastSeen: number;
}

/** The stored series among `hashes` that satisfy `condition` (over the `series` columns; may be empty). */
export async function loadSeriesRows(
  db: SqlExecutor,
  dialect: SqlDialect,
  hashes: Iterable<bigint>,
  condition: SqlFragment = { sql: '', params: [] },
): Promise<SeriesRow[]> {
  const rows: SeriesRow[] = [];
  const extra = condition.sql ? ` AND ${condition.sql}` : '';
  for (const batch of batches(hashes, HASHES_PER_STATEMENT)) {
    const list = hashInList(dialect, 'hash', batch);
    const found = await db.query<{ hash: SqlValue; series_key: string; first_seen: SqlValue; last_seen: SqlValue }>(
      `SELECT hash, series_key, first_seen, last_seen FROM series WHERE ${list.sql}${extra}`,
      [...list.params, ...condition.params],
    );
    for (const row of found) {
      rows.push({ hash: dialect.decodeHash(row.hash), key: row.series_key, firstSeen: Number(row.first_seen), lastSeen: Number(row.last_seen) });
    }
  }
  return rows;
}

/** Whether any of `hashes` is a stored series satisfying `condition`. */
export async function anySeries(db: SqlExecutor, dialect: SqlDialect, hashes: Iterable<bigint>, condition: SqlFragment): Promise<boolean> {
  const extra = condition.sql ? ` AND ${condition.sql}` : '';
  for (const batch of batches(hashes, HASHES_PER_STATEMENT)) {
    const list = hashInList(dialect, 'hash', batch);
    const found = await db.query(`SELECT 1 AS found FROM series WHERE ${list.sql}${extra} LIMIT 1`, [...list.params, ...condition.params]);
    if (found.length > 0) return true;
  }
  return false;
}

function* batches<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
