import { createHash } from 'node:crypto';
import { DownstreamError, InvalidInputError } from '../errors.js';
import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import type { MetricMetadata } from '../remote-write/types.js';
import type { HashCollision, WriteBatchResult } from './series-index.js';
import { encodeHashes, loadSeriesRows } from './postings.js';
import { labelKeysOf, type SqlDialect, type SqlExecutor, type SqlStore, type SqlValue, type UpsertSpec } from './sql-store.js';

/**
 * Rows per multi-row statement, at most. Statements carry a power of two of rows (a 1,900-row
 * insert is 1,024 + 512 + 256 + 64 + 32 + 8 + 4 rows), so there are a dozen shapes per table, each
 * prepared once per connection, rather than one per window size.
 */
const MAX_ROWS_PER_STATEMENT = 1_024;
/** … and at most about this many bytes of values (MySQL's default max_allowed_packet is 16 MiB, or 4 MiB before 8.0). */
const MAX_BYTES_PER_STATEMENT = 2 * 2 ** 20;

const SERIES_COLUMNS = ['hash', 'series_key', 'first_seen', 'last_seen'];
/** Series the batch's snapshot did not have: inserted only, so the statement's change count says how many were new. */
const NEW_SERIES: UpsertSpec = { table: 'series', columns: SERIES_COLUMNS, key: ['hash'] };
const KNOWN_SERIES: UpsertSpec = {
  table: 'series',
  columns: SERIES_COLUMNS,
  key: ['hash'],
  merge: { first_seen: 'min', last_seen: 'max' },
  // Defence in depth: a colliding key never touches the stored series, whatever the JS check saw.
  mergeOnlyIfEqual: 'series_key',
};
const LABEL_MERGE = { series_count: 'sum', first_seen: 'min', last_seen: 'max' } as const;
const METADATA: UpsertSpec = {
  table: 'metric_metadata',
  columns: ['metadata_id', 'metric_family', 'type', 'help', 'unit', 'last_seen'],
  key: ['metadata_id'],
  merge: { last_seen: 'max' },
};

const UINT64_LIMIT = 1n << 64n;

interface SeenSeries {
  series: CanonicalSeries;
  firstSeen: number;
  lastSeen: number;
}

/** Aggregate of the series in a batch that carry one label name or one name/value pair. */
interface LabelAggregate {
  newSeries: number;
  /** The new series carrying the pair (pairs only), as indexes into `fresh`: ascending, as their hashes are. */
  fresh: number[];
  firstSeen: number;
  lastSeen: number;
}

/**
 * Writes a batch in one transaction. Series already stored get first_seen = min and
 * last_seen = max; only new series add postings (one chunk per label pair, see the schema) and
 * count towards label series counts, which makes writing the same batch twice a no-op. A series whose hash is stored under a different key
 * is a collision: reported, not written. If another writer stores some of the batch's new series
 * between our read and our insert, the batch fails retriably rather than count them twice.
 */
export async function writeSeriesBatch(store: SqlStore, batch: SeriesBatch): Promise<WriteBatchResult> {
  const { dialect } = store;
  const { tables, postingsSpec } = specsOf(dialect);
  const byHash = groupByHash(batch.series);
  const metadataRows = metadataToRows(batch.metadata, batch.receivedAt);
  return store.transaction(async (tx) => {
    const stored = new Map((await loadSeriesRows(tx, dialect, byHash.map((group) => group.hash))).map((row) => [row.hash, row]));
    const fresh: SeenSeries[] = [];
    const known: SeenSeries[] = [];
    let unchanged = 0;
    const collisions: HashCollision[] = [];
    for (const { hash, candidates } of byHash) {
      // The stored key wins wherever it appears in the batch; otherwise the batch's first key does.
      const storedSeries = stored.get(hash);
      const keptKey = storedSeries?.key ?? candidates[0].series.key;
      const winner = candidates.find((c) => c.series.key === keptKey);
      if (!winner) {
        // Only colliding keys: nothing of this hash is written.
      } else if (!storedSeries) {
        fresh.push(winner);
      } else if (storedSeries.firstSeen <= winner.firstSeen && storedSeries.lastSeen >= winner.lastSeen) {
        // Re-sent within its stored times: nothing changes, not even its labels' bounds (they
        // cover every time ever merged into the series). Replayed windows cost one read.
        unchanged++;
      } else {
        known.push(winner);
      }
      for (const c of candidates) if (c !== winner) collisions.push({ hash, keptKey, droppedKey: c.series.key });
    }
    const inserted = await upsertRows(tx, dialect, NEW_SERIES, fresh.map((s) => seriesRow(dialect, s)));
    if (inserted !== fresh.length) {
      // A concurrent writer (MySQL) committed some of these series after our read: counting them
      // as new would count their labels twice. Rolled back; a retry sees them as known.
      throw new DownstreamError(`${fresh.length - inserted} of ${fresh.length} new series were stored concurrently by another writer`, {
        retriable: true,
      });
    }
    await upsertRows(tx, dialect, KNOWN_SERIES, known.map((s) => seriesRow(dialect, s)));
    const pairs = aggregatePairs(fresh, known);
    await upsertRows(tx, dialect, postingsSpec.spec, postingsSpec.rows(pairs, fresh));
    // The rows every batch touches (label names, common pairs, metadata) last: their row locks are
    // held until commit, and concurrent writers queue on them.
    const values = [...pairs].flatMap(([name, byValue]) => [...byValue].map(([value, agg]) => tables.valueRow(name, value, agg)));
    await upsertRows(tx, dialect, tables.values, values);
    await upsertRows(tx, dialect, METADATA, metadataRows);
    await upsertRows(tx, dialect, tables.names, [...pairs].map(([name, byValue]) => tables.nameRow(name, nameAggregate(byValue))));
    return { newSeries: fresh.length, updatedSeries: known.length + unchanged, hashCollisions: collisions };
  });
}

/**
 * Per hash, in ascending hash order (the order rows are written and locked in), one entry per
 * distinct key in arrival order (more than one is a collision), times merged.
 */
function groupByHash(series: readonly CanonicalSeries[]): Array<{ hash: bigint; candidates: SeenSeries[] }> {
  for (const s of series) {
    if (s.hash < 0n || s.hash >= UINT64_LIMIT) {
      throw new InvalidInputError('series hash is not an unsigned 64-bit integer', [{ where: s.key, reason: `hash ${s.hash}` }]);
    }
  }
  // Stable: equal hashes keep their arrival order.
  const sorted = [...series].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const groups: Array<{ hash: bigint; candidates: SeenSeries[] }> = [];
  for (const s of sorted) {
    const last = groups.at(-1);
    const candidates = last?.hash === s.hash ? last.candidates : undefined;
    const seen = candidates?.find((c) => c.series.key === s.key);
    if (seen) {
      seen.firstSeen = Math.min(seen.firstSeen, s.firstTimestamp);
      seen.lastSeen = Math.max(seen.lastSeen, s.lastTimestamp);
      continue;
    }
    const entry = { series: s, firstSeen: s.firstTimestamp, lastSeen: s.lastTimestamp };
    if (candidates) candidates.push(entry);
    else groups.push({ hash: s.hash, candidates: [entry] });
  }
  return groups;
}

function seriesRow(dialect: SqlDialect, { series, firstSeen, lastSeen }: SeenSeries): SqlValue[] {
  return [dialect.encodeHash(series.hash), series.key, firstSeen, lastSeen];
}

const specs = new WeakMap<SqlDialect, { tables: ReturnType<typeof labelTables>; postingsSpec: ReturnType<typeof postingsTable> }>();

/** The dialect's upserts, made once (their statements are remembered per spec: `upsertSqlOf`). */
function specsOf(dialect: SqlDialect) {
  let found = specs.get(dialect);
  if (!found) specs.set(dialect, (found = { tables: labelTables(dialect), postingsSpec: postingsTable(dialect) }));
  return found;
}

/** One chunk row per label pair carried by new series of the batch: their hashes, ascending. */
function postingsTable(dialect: SqlDialect) {
  const { nameColumn, valueColumn, keyOf } = labelKeysOf(dialect);
  const spec: UpsertSpec = {
    table: 'label_postings',
    columns: [nameColumn, valueColumn, 'first_hash', 'hashes'],
    key: [nameColumn, valueColumn, 'first_hash'],
  };
  const rows = (pairs: Map<string, Map<string, LabelAggregate>>, fresh: readonly SeenSeries[]): SqlValue[][] => {
    // Each new series' hash packed once; a chunk copies the 8 bytes of each of its series.
    const packed = encodeHashes(fresh.map((s) => s.series.hash));
    const rows: SqlValue[][] = [];
    for (const [name, byValue] of pairs) {
      const nameKey = keyOf(name);
      for (const [value, agg] of byValue) {
        if (agg.fresh.length === 0) continue;
        const chunk = Buffer.allocUnsafe(agg.fresh.length * 8);
        let at = 0;
        for (const i of agg.fresh) for (let from = i * 8, end = from + 8; from < end; ) chunk[at++] = packed[from++];
        rows.push([nameKey, keyOf(value), dialect.encodeHash(fresh[agg.fresh[0]].series.hash), chunk]);
      }
    }
    return rows;
  };
  return { spec, rows };
}

/**
 * The upserts and rows of the label tables. Their key columns are the text columns on SQLite; on
 * MySQL they are extra columns holding bounded keys (`LabelKeys`).
 */
function labelTables(dialect: SqlDialect) {
  const { nameColumn, valueColumn, keyOf } = labelKeysOf(dialect);
  const nameText = nameColumn === 'label_name' ? [] : ['label_name'];
  const valueText = valueColumn === 'label_value' ? [] : ['label_value'];
  const bounds = (agg: LabelAggregate) => [agg.newSeries, agg.firstSeen, agg.lastSeen];
  const names: UpsertSpec = {
    table: 'label_names',
    columns: [nameColumn, ...nameText, 'series_count', 'first_seen', 'last_seen'],
    key: [nameColumn],
    merge: LABEL_MERGE,
  };
  const values: UpsertSpec = {
    table: 'label_values',
    columns: [nameColumn, valueColumn, ...nameText, ...valueText, 'series_count', 'first_seen', 'last_seen'],
    key: [nameColumn, valueColumn],
    merge: LABEL_MERGE,
  };
  return {
    names,
    values,
    nameRow: (name: string, agg: LabelAggregate): SqlValue[] => [keyOf(name), ...(nameText.length ? [name] : []), ...bounds(agg)],
    valueRow: (name: string, value: string, agg: LabelAggregate): SqlValue[] => [
      keyOf(name),
      keyOf(value),
      ...(nameText.length ? [name] : []),
      ...(valueText.length ? [value] : []),
      ...bounds(agg),
    ],
  };
}

/**
 * Per label pair of the batch's series: how many are new, their time bounds, and which new series
 * carry it. `fresh` is in ascending hash order, so each pair's list of new series is too.
 */
function aggregatePairs(fresh: readonly SeenSeries[], known: readonly SeenSeries[]): Map<string, Map<string, LabelAggregate>> {
  const pairs = new Map<string, Map<string, LabelAggregate>>();
  const add = (seen: SeenSeries, freshIndex: number) => {
    for (const { name, value } of seen.series.labels) {
      let values = pairs.get(name);
      if (!values) pairs.set(name, (values = new Map()));
      let agg = values.get(value);
      if (!agg) values.set(value, (agg = { newSeries: 0, fresh: [], firstSeen: seen.firstSeen, lastSeen: seen.lastSeen }));
      else {
        if (seen.firstSeen < agg.firstSeen) agg.firstSeen = seen.firstSeen;
        if (seen.lastSeen > agg.lastSeen) agg.lastSeen = seen.lastSeen;
      }
      if (freshIndex >= 0) {
        agg.newSeries++;
        agg.fresh.push(freshIndex);
      }
    }
  };
  for (let i = 0; i < fresh.length; i++) add(fresh[i], i);
  for (const seen of known) add(seen, -1);
  return pairs;
}

/** A label name's aggregate from its pairs' (a series carries each of its label names once). */
function nameAggregate(byValue: Map<string, LabelAggregate>): LabelAggregate {
  const name: LabelAggregate = { newSeries: 0, fresh: [], firstSeen: Infinity, lastSeen: -Infinity };
  for (const agg of byValue.values()) {
    name.newSeries += agg.newSeries;
    if (agg.firstSeen < name.firstSeen) name.firstSeen = agg.firstSeen;
    if (agg.lastSeen > name.lastSeen) name.lastSeen = agg.lastSeen;
  }
  return name;
}

function metadataToRows(metadata: readonly MetricMetadata[], receivedAt: number): SqlValue[][] {
  const rows = new Map<string, SqlValue[]>();
  for (const m of metadata) {
    // An entry without a family name cannot be looked up by /metadata; there is nothing to index.
    if (m.metricFamilyName === '') continue;
    const id = metadataId(m);
    rows.set(id, [id, m.metricFamilyName, m.type, m.help, m.unit, receivedAt]);
  }
  return [...rows.values()];
}

/** A short, stable unique key for a (family, type, help, unit) tuple. */
export function metadataId(m: MetricMetadata): string {
  return createHash('sha256').update(JSON.stringify([m.metricFamilyName, m.type, m.help, m.unit])).digest('base64url');
}

/**
 * Multi-row upserts; returns the rows changed (inserted, for an insert-only spec). Rows are sorted
 * by the table's key first, so concurrent writers (MySQL) take row locks in the same order and
 * cannot deadlock each other.
 */
async function upsertRows(tx: SqlExecutor, dialect: SqlDialect, spec: UpsertSpec, rows: SqlValue[][]): Promise<number> {
  if (rows.length === 0) return 0;
  const keyIndexes = spec.key.map((column) => spec.columns.indexOf(column));
  const byKey = (a: SqlValue[], b: SqlValue[]) => {
    for (const i of keyIndexes) {
      const order = compareSqlValues(a[i], b[i]);
      if (order !== 0) return order;
    }
    return 0;
  };
  // Series rows come in hash order already.
  if (rows.some((row, i) => i > 0 && byKey(rows[i - 1], row) > 0)) rows.sort(byKey);
  const rowsPerStatement = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(dialect.maxParameters / spec.columns.length)));
  let changes = 0;
  for (let from = 0; from < rows.length; ) {
    let to = from;
    let bytes = 0;
    while (to < rows.length && to - from < rowsPerStatement && (to === from || bytes < MAX_BYTES_PER_STATEMENT)) bytes += rowBytes(rows[to++]);
    to = from + largestPowerOfTwoUpTo(to - from);
    const params: SqlValue[] = [];
    for (let i = from; i < to; i++) for (const value of rows[i]) params.push(value);
    changes += (await tx.exec(upsertSqlOf(dialect, spec, to - from), params, { prepared: true })).changes;
    from = to;
  }
  return changes;
}

function largestPowerOfTwoUpTo(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

const upsertStatements = new WeakMap<UpsertSpec, Map<string, string>>();

/** `dialect.upsertSql`, remembered: a window's statements have the same few shapes. */
function upsertSqlOf(dialect: SqlDialect, spec: UpsertSpec, rowCount: number): string {
  let bySize = upsertStatements.get(spec);
  if (!bySize) upsertStatements.set(spec, (bySize = new Map()));
  const key = `${dialect.name}:${rowCount}`;
  let sql = bySize.get(key);
  if (sql === undefined) {
    sql = dialect.upsertSql(spec, rowCount);
    if (bySize.size >= 64) bySize.clear();
    bySize.set(key, sql);
  }
  return sql;
}

/** About what a row adds to a statement (binary values may travel as hex: counted twice). */
function rowBytes(row: readonly SqlValue[]): number {
  let bytes = 0;
  for (const value of row) bytes += typeof value === 'string' ? value.length * 3 : value instanceof Uint8Array ? value.length * 2 : 24;
  return bytes;
}

/** Any consistent order will do for locking; null never occurs in key columns. */
function compareSqlValues(a: SqlValue, b: SqlValue): number {
  if (a === null || b === null || a === b) return 0;
  return a < b ? -1 : 1;
}

