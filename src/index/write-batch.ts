import { createHash } from 'node:crypto';
import { DownstreamError, InvalidInputError } from '../errors.js';
import type { CanonicalSeries, SeriesBatch } from '../remote-write/canonical.js';
import type { MetricMetadata } from '../remote-write/types.js';
import type { HashCollision, WriteBatchResult } from './series-index.js';
import { hashInList, labelKeysOf, type SqlDialect, type SqlExecutor, type SqlStore, type SqlValue, type UpsertSpec } from './sql-store.js';

/** Rows per multi-row statement: large enough to amortize round trips, small enough for any driver. */
const MAX_ROWS_PER_STATEMENT = 500;

const SERIES_COLUMNS = ['hash', 'series_key', 'metric_name', 'labels', 'first_seen', 'last_seen'];
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
  firstSeen: number;
  lastSeen: number;
}

/**
 * Writes a batch in one transaction. Series already stored get first_seen = min and
 * last_seen = max; only new series add postings and count towards label series counts, which
 * makes writing the same batch twice a no-op. A series whose hash is stored under a different key
 * is a collision: reported, not written. If another writer stores some of the batch's new series
 * between our read and our insert, the batch fails retriably rather than count them twice.
 */
export async function writeSeriesBatch(store: SqlStore, batch: SeriesBatch): Promise<WriteBatchResult> {
  const { dialect } = store;
  const tables = labelTables(dialect);
  const byHash = groupByHash(batch.series);
  const metadataRows = metadataToRows(batch.metadata, batch.receivedAt);
  return store.transaction(async (tx) => {
    const stored = await loadStoredSeries(tx, dialect, [...byHash.keys()]);
    const fresh: SeenSeries[] = [];
    const known: SeenSeries[] = [];
    let unchanged = 0;
    const collisions: HashCollision[] = [];
    for (const [hash, candidates] of byHash) {
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
    const postings = fresh.flatMap(({ series }) => series.labels.map((l) => tables.postingRow(l.name, l.value, series.hash)));
    await upsertRows(tx, dialect, tables.postings, postings);
    const { names, pairs } = aggregateLabels(fresh, known);
    await upsertRows(tx, dialect, tables.names, [...names].map(([name, agg]) => tables.nameRow(name, agg)));
    const values = [...pairs].flatMap(([name, byValue]) => [...byValue].map(([value, agg]) => tables.valueRow(name, value, agg)));
    await upsertRows(tx, dialect, tables.values, values);
    await upsertRows(tx, dialect, METADATA, metadataRows);
    return { newSeries: fresh.length, updatedSeries: known.length + unchanged, hashCollisions: collisions };
  });
}

/** Per hash, one entry per distinct key in arrival order (more than one is a collision), times merged. */
function groupByHash(series: readonly CanonicalSeries[]): Map<bigint, SeenSeries[]> {
  const byHash = new Map<bigint, SeenSeries[]>();
  for (const s of series) {
    if (s.hash < 0n || s.hash >= UINT64_LIMIT) {
      throw new InvalidInputError('series hash is not an unsigned 64-bit integer', [{ where: s.key, reason: `hash ${s.hash}` }]);
    }
    let candidates = byHash.get(s.hash);
    if (!candidates) byHash.set(s.hash, (candidates = []));
    const seen = candidates.find((c) => c.series.key === s.key);
    if (!seen) candidates.push({ series: s, firstSeen: s.firstTimestamp, lastSeen: s.lastTimestamp });
    else {
      seen.firstSeen = Math.min(seen.firstSeen, s.firstTimestamp);
      seen.lastSeen = Math.max(seen.lastSeen, s.lastTimestamp);
    }
  }
  return byHash;
}

interface StoredSeries {
  key: string;
  firstSeen: number;
  lastSeen: number;
}

async function loadStoredSeries(tx: SqlExecutor, dialect: SqlDialect, hashes: bigint[]): Promise<Map<bigint, StoredSeries>> {
  const stored = new Map<bigint, StoredSeries>();
  for (const chunk of chunked(hashes, MAX_ROWS_PER_STATEMENT)) {
    const list = hashInList(dialect, 'hash', chunk);
    const rows = await tx.query<{ hash: SqlValue; series_key: string; first_seen: SqlValue; last_seen: SqlValue }>(
      `SELECT hash, series_key, first_seen, last_seen FROM series WHERE ${list.sql}`,
      list.params,
    );
    for (const row of rows) {
      stored.set(dialect.decodeHash(row.hash), { key: row.series_key, firstSeen: Number(row.first_seen), lastSeen: Number(row.last_seen) });
    }
  }
  return stored;
}

function seriesRow(dialect: SqlDialect, { series, firstSeen, lastSeen }: SeenSeries): SqlValue[] {
  const labels = JSON.stringify(series.labels.map((l) => [l.name, l.value]));
  return [dialect.encodeHash(series.hash), series.key, series.metricName, labels, firstSeen, lastSeen];
}

/**
 * The upserts and rows of the label tables. Their key columns are the text columns on SQLite; on
 * MySQL they are extra columns holding bounded keys (`LabelKeys`), and postings hold keys only.
 */
function labelTables(dialect: SqlDialect) {
  const { nameColumn, valueColumn, keyOf } = labelKeysOf(dialect);
  const nameText = nameColumn === 'label_name' ? [] : ['label_name'];
  const valueText = valueColumn === 'label_value' ? [] : ['label_value'];
  const bounds = (agg: LabelAggregate) => [agg.newSeries, agg.firstSeen, agg.lastSeen];
  const postings: UpsertSpec = {
    table: 'label_postings',
    columns: [nameColumn, valueColumn, 'series_hash'],
    key: [nameColumn, valueColumn, 'series_hash'],
  };
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
    postings,
    names,
    values,
    postingRow: (name: string, value: string, hash: bigint): SqlValue[] => [keyOf(name), keyOf(value), dialect.encodeHash(hash)],
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

function aggregateLabels(fresh: readonly SeenSeries[], known: readonly SeenSeries[]) {
  const names = new Map<string, LabelAggregate>();
  const pairs = new Map<string, Map<string, LabelAggregate>>();
  const add = (target: Map<string, LabelAggregate>, key: string, seen: SeenSeries, isNew: boolean) => {
    const agg = target.get(key);
    if (!agg) target.set(key, { newSeries: isNew ? 1 : 0, firstSeen: seen.firstSeen, lastSeen: seen.lastSeen });
    else {
      agg.newSeries += isNew ? 1 : 0;
      agg.firstSeen = Math.min(agg.firstSeen, seen.firstSeen);
      agg.lastSeen = Math.max(agg.lastSeen, seen.lastSeen);
    }
  };
  for (const [list, isNew] of [[fresh, true], [known, false]] as const) {
    for (const seen of list) {
      for (const { name, value } of seen.series.labels) {
        add(names, name, seen, isNew);
        let values = pairs.get(name);
        if (!values) pairs.set(name, (values = new Map()));
        add(values, value, seen, isNew);
      }
    }
  }
  return { names, pairs };
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
  rows.sort((a, b) => {
    for (const i of keyIndexes) {
      const order = compareSqlValues(a[i], b[i]);
      if (order !== 0) return order;
    }
    return 0;
  });
  const rowsPerStatement = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(dialect.maxParameters / spec.columns.length)));
  let changes = 0;
  for (const chunk of chunked(rows, rowsPerStatement)) {
    changes += (await tx.exec(dialect.upsertSql(spec, chunk.length), chunk.flat())).changes;
  }
  return changes;
}

/** Any consistent order will do for locking; null never occurs in key columns. */
function compareSqlValues(a: SqlValue, b: SqlValue): number {
  if (a === null || b === null || a === b) return 0;
  return a < b ? -1 : 1;
}

function* chunked<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
