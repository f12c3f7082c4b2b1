import { hashInList, labelKeysOf, type SqlDialect, type SqlExecutor, type SqlFragment, type SqlValue } from './sql-store.js';

/**
 * Postings and series rows as the index reads them: chunks of packed hashes per label pair
 * (`label_postings`, see the schema) and series rows by hash. Lists of hashes travel in
 * statements of `HASHES_PER_STATEMENT`.
 */

export const HASHES_PER_STATEMENT = 1_000;

/** A chunk's hashes: unsigned 64-bit big-endian, in the order given (the writer sorts them). */
export function encodeHashes(hashes: readonly bigint[]): Buffer {
  const packed = Buffer.allocUnsafe(hashes.length * 8);
  hashes.forEach((hash, i) => packed.writeBigUInt64BE(hash, i * 8));
  return packed;
}

export function decodeHashes(value: SqlValue, into: { add(hash: bigint): unknown }): void {
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
export async function loadPostings(db: SqlExecutor, dialect: SqlDialect, selection: PostingsSelection): Promise<Set<bigint>> {
  const hashes = new Set<bigint>();
  for await (const chunk of postingsChunks(db, dialect, selection, Number.MAX_SAFE_INTEGER)) decodeHashes(chunk, hashes);
  return hashes;
}

/** Chunks read per statement when postings are streamed. */
const CHUNKS_PER_PAGE = 64;

/**
 * The postings chunks (packed hashes, see `decodeHashes`) of a selection, read a page of
 * `chunksPerPage` chunks per statement in primary-key order (keyset on value and `first_hash`), so
 * a caller that stops early reads no further and memory is bounded by a page. Within one label
 * name, a series is in one chunk only (one value per name, one chunk per pair): chunks never share
 * a hash.
 */
export async function* postingsChunks(
  db: SqlExecutor,
  dialect: SqlDialect,
  { name, values }: PostingsSelection,
  chunksPerPage = CHUNKS_PER_PAGE,
): AsyncGenerator<SqlValue> {
  const keys = labelKeysOf(dialect);
  const { valueColumn } = keys;
  const filter: SqlValue[] = [keys.keyOf(name)];
  let sql = `SELECT ${valueColumn} AS chunk_value, first_hash AS chunk_first, hashes FROM label_postings WHERE ${keys.nameColumn} = ?`;
  if (values !== 'any') {
    if (values.length === 0) return;
    const list = dialect.inList(valueColumn, values.map(keys.keyOf));
    sql += ` AND ${list.sql}`;
    filter.push(...list.params);
  }
  if (chunksPerPage >= Number.MAX_SAFE_INTEGER) {
    for (const row of await db.query<{ hashes: SqlValue }>(sql, filter)) yield row.hashes;
    return;
  }
  const pageSize = Math.max(1, Math.trunc(chunksPerPage));
  const order = ` ORDER BY ${valueColumn}, first_hash LIMIT ${pageSize}`;
  const read = (condition: string, params: SqlValue[]) =>
    db.query<{ chunk_value: SqlValue; chunk_first: SqlValue; hashes: SqlValue }>(`${sql}${condition}${order}`, [...filter, ...params]);
  // The key of the last chunk read, bound as it came back (the stored types). The rest of its value
  // and the values after it are read by two statements, each one range of the primary key on
  // SQLite and MySQL alike (an OR of both, or a row-value comparison, is not always one).
  let page = await read('', []);
  let more = page.length === pageSize;
  for (;;) {
    for (const row of page) yield row.hashes;
    if (!more || page.length === 0) return;
    const last = page[page.length - 1];
    page = await read(` AND ${valueColumn} = ? AND first_hash > ?`, [last.chunk_value, last.chunk_first]);
    more = page.length === pageSize;
    if (!more) {
      const next = await read(` AND ${valueColumn} > ?`, [last.chunk_value]);
      page = [...page, ...next];
      more = next.length === pageSize;
    }
  }
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

/**
 * Whether a series of the selection's postings is stored and satisfies `condition`: the postings
 * are streamed (`postingsChunks`) and their hashes checked a statement at a time, stopping at the
 * first hit. Statements start small (a label in the range usually has a series in the first one)
 * and grow to `HASHES_PER_STATEMENT`; memory is bounded by a page of chunks and a statement.
 */
export async function anySeriesIn(db: SqlExecutor, dialect: SqlDialect, selection: PostingsSelection, condition: SqlFragment): Promise<boolean> {
  const extra = condition.sql ? ` AND ${condition.sql}` : '';
  let pending: bigint[] = [];
  let size = FIRST_CHECK_HASHES;
  const found = async (hashes: readonly bigint[]): Promise<boolean> => {
    const list = hashInList(dialect, 'hash', hashes);
    return (await db.query(`SELECT 1 AS found FROM series WHERE ${list.sql}${extra} LIMIT 1`, [...list.params, ...condition.params])).length > 0;
  };
  for await (const chunk of postingsChunks(db, dialect, selection)) {
    decodeHashes(chunk, { add: (hash) => pending.push(hash) });
    let from = 0;
    for (; pending.length - from >= size; from += size, size = Math.min(size * 4, HASHES_PER_STATEMENT)) {
      if (await found(pending.slice(from, from + size))) return true;
    }
    if (from > 0) pending = pending.slice(from);
  }
  return pending.length > 0 && (await found(pending));
}

/** Hashes in the first statement of `anySeriesIn`. */
const FIRST_CHECK_HASHES = 64;

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
