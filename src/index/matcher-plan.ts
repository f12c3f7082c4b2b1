import { labelSetMatches, type Matcher } from './matcher.js';
import { labelSetFromKey } from './series-key.js';
import { decodeHashes, HASHES_PER_STATEMENT, loadPostings, loadSeriesRows, postingsChunks, type PostingsSelection, type SeriesRow } from './postings.js';
import type { TimeRange } from './series-index.js';
import { labelKeysOf, type LabelKeys, type SqlExecutor, type SqlFragment, type SqlStore, type SqlValue } from './sql-store.js';

/**
 * Finds the series matching matcher sets: the postings of one matcher per set narrow the search
 * to candidate series, whose rows are then checked against every matcher of the set in JS (the
 * same `labelSetMatches` as Prometheus semantics), and against the time range.
 *
 * A series lacking a label reads as `""` there, and canonical series never store empty values, so
 * a matcher that does NOT match `""` requires the label with one of the values it matches: the
 * postings of those values hold every series it can match. Which stored values a regex (or `!=`)
 * matches is decided in JS, against the distinct values of that label (RE2 semantics stay
 * identical on every database). Of those "required" postings, the one with the fewest series
 * (by `label_values` counts) is read.
 */

/** Postings of one label name, restricted to some values or to any value. */
interface PostingsCondition extends PostingsSelection {
  /** Series carrying it (an upper bound), to pick the driving condition. */
  estimatedSeries: number;
}

interface StoredValue {
  value: string;
  seriesCount: number;
}

/**
 * The series matching any of the sets and in the time range, each once (in no particular order).
 * Sets must each contain a matcher that does not match `""` (see `assertSelective`).
 */
export async function matchingSeries(store: SqlStore, matcherSets: readonly (readonly Matcher[])[], range: TimeRange): Promise<MatchedSeries[]> {
  const labels = new StoredLabels(store, labelKeysOf(store.dialect), range);
  const time = timeBoundsCondition('', range);
  const rows = new Map<bigint, MatchedSeries | undefined>();
  for (const matchers of matcherSets) {
    const driver = await drivingCondition(matchers, labels);
    if (!driver) continue;
    const candidates = await loadPostings(store, store.dialect, driver);
    const unread = [...candidates].filter((hash) => !rows.has(hash));
    for (const hash of unread) rows.set(hash, undefined);
    for (const row of await loadSeriesRows(store, store.dialect, unread, time)) rows.set(row.hash, { ...row, labelSet: labelSetFromKey(row.key) });
    for (const hash of candidates) {
      const row = rows.get(hash);
      if (row && !row.matched && labelSetMatches(matchers, row.labelSet)) row.matched = true;
    }
  }
  return [...rows.values()].filter((row): row is MatchedSeries => row?.matched === true);
}

/**
 * The first `limit` series matching any of the sets and in the time range, by series key in byte
 * order (Go's string order), each once: what `matchingSeries` sorted and truncated would give,
 * without holding or parsing every candidate. Each set's driving postings are streamed
 * (`postingsChunks`), their series rows read a statement at a time, sorted by key and checked in
 * that order until the statement has given `limit` matches; the best `limit` so far are kept. Once
 * `limit` are kept, a statement only reads rows with a key below the last kept one (SQL compares
 * the keys by bytes too: binary columns on MySQL, BINARY collation on SQLite), so rows that cannot
 * enter the answer are neither sent nor parsed. Memory is bounded by a page of postings, a
 * statement's rows and `limit`.
 */
export async function firstMatchingSeries(
  store: SqlStore,
  matcherSets: readonly (readonly Matcher[])[],
  range: TimeRange,
  limit: number,
): Promise<MatchedSeries[]> {
  const labels = new StoredLabels(store, labelKeysOf(store.dialect), range);
  const time = timeBoundsCondition('', range);
  let best: KeyedSeries[] = [];
  const read = async (hashes: readonly bigint[]): Promise<void> => {
    const below = best.length === limit ? best[limit - 1].series.key : undefined;
    const condition = and(time, below === undefined ? undefined : { sql: 'series_key < ?', params: [below] });
    const rows = (await loadSeriesRows(store, store.dialect, hashes, condition)).map((row) => ({ row, bytes: Buffer.from(row.key) }));
    rows.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    const matched: KeyedSeries[] = [];
    for (const { row, bytes } of rows) {
      if (matched.length === limit) break;
      const labelSet = labelSetFromKey(row.key);
      if (matcherSets.some((matchers) => labelSetMatches(matchers, labelSet))) matched.push({ series: { ...row, labelSet }, bytes });
    }
    best = mergeByKey(best, matched, limit);
  };
  for (const matchers of matcherSets) {
    const driver = await drivingCondition(matchers, labels);
    if (!driver) continue;
    let pending: bigint[] = [];
    for await (const chunk of postingsChunks(store, store.dialect, driver, CHUNKS_PER_PAGE)) {
      decodeHashes(chunk, { add: (hash) => pending.push(hash) });
      let from = 0;
      for (; pending.length - from >= HASHES_PER_STATEMENT; from += HASHES_PER_STATEMENT) await read(pending.slice(from, from + HASHES_PER_STATEMENT));
      if (from > 0) pending = pending.slice(from);
    }
    if (pending.length > 0) await read(pending);
  }
  return best.map(({ series }) => series);
}

/** Postings chunks per statement in `firstMatchingSeries`, which reads every chunk of its drivers. */
const CHUNKS_PER_PAGE = 256;

interface KeyedSeries {
  series: MatchedSeries;
  /** The key's UTF-8 bytes. */
  bytes: Buffer;
}

/** The first `limit` of two lists sorted by key, each key once (a series may come from two sets). */
function mergeByKey(a: readonly KeyedSeries[], b: readonly KeyedSeries[], limit: number): KeyedSeries[] {
  const merged: KeyedSeries[] = [];
  let i = 0;
  let j = 0;
  while (merged.length < limit && (i < a.length || j < b.length)) {
    const order = i === a.length ? 1 : j === b.length ? -1 : Buffer.compare(a[i].bytes, b[j].bytes);
    if (order <= 0) merged.push(a[i++]);
    else merged.push(b[j++]);
    if (order === 0) j++;
  }
  return merged;
}

function and(a: SqlFragment, b: SqlFragment | undefined): SqlFragment {
  if (!b || !b.sql) return a;
  if (!a.sql) return b;
  return { sql: `${a.sql} AND ${b.sql}`, params: [...a.params, ...b.params] };
}

/** A series row with its labels parsed: `__name__` first, then in label-name order. */
export interface MatchedSeries extends SeriesRow {
  labelSet: Record<string, string>;
  matched?: boolean;
}

/** The required postings with the fewest series; `undefined` when one requires what no series in range has. */
async function drivingCondition(matchers: readonly Matcher[], labels: StoredLabels): Promise<PostingsCondition | undefined> {
  const required: PostingsCondition[] = [];
  for (const matcher of matchers) {
    if (matcher.matches('')) continue;
    const condition = await requiredPostings(matcher, labels);
    if (condition === undefined) return undefined;
    required.push(condition);
  }
  if (required.length === 0) throw new Error('matcher set without a matcher that rejects ""; call assertSelective first');
  return required.reduce((best, c) => (c.estimatedSeries < best.estimatedSeries ? c : best));
}

/** The postings a matcher that rejects `""` requires; `undefined` when no stored value matches it. */
async function requiredPostings(matcher: Matcher, labels: StoredLabels): Promise<PostingsCondition | undefined> {
  const { name, type, value } = matcher;
  if (type === '!=') {
    // Rejects "" only as `a!=""`: any value of a.
    const estimatedSeries = await labels.seriesWithName(name);
    return estimatedSeries === 0 ? undefined : { name, values: 'any', estimatedSeries };
  }
  if (type === '=') {
    const estimatedSeries = await labels.seriesWithPair(name, value);
    return estimatedSeries === 0 ? undefined : { name, values: [value], estimatedSeries };
  }
  // Regex: the stored values it matches.
  const stored = await labels.values(name);
  const selected = stored.filter((v) => matcher.matches(v.value));
  if (selected.length === 0) return undefined;
  const estimatedSeries = selected.reduce((sum, v) => sum + v.seriesCount, 0);
  return { name, values: selected.length === stored.length ? 'any' : selected.map((v) => v.value), estimatedSeries };
}

/**
 * What the index holds per label name and pair, for planning. With a time range, only pairs whose
 * series' time bounds overlap it count: a series in the range lies inside its pairs' bounds, so
 * nothing that could match is lost, and the final per-series time filter keeps the answer exact.
 */
class StoredLabels {
  private readonly valuesByName = new Map<string, Promise<StoredValue[]>>();
  private readonly time: SqlFragment;

  constructor(
    private readonly db: SqlExecutor,
    private readonly keys: LabelKeys,
    range: TimeRange,
  ) {
    const time = timeBoundsCondition('', range);
    this.time = { sql: time.sql ? ` AND ${time.sql}` : '', params: time.params };
  }

  values(name: string): Promise<StoredValue[]> {
    let values = this.valuesByName.get(name);
    if (!values) {
      values = this.db
        .query<{ label_value: string; series_count: SqlCount }>(
          `SELECT label_value, series_count FROM label_values WHERE ${this.keys.nameColumn} = ?${this.time.sql}`,
          [this.keys.keyOf(name), ...this.time.params],
        )
        .then((rows) => rows.map((r) => ({ value: r.label_value, seriesCount: Number(r.series_count) })));
      this.valuesByName.set(name, values);
    }
    return values;
  }

  async seriesWithName(name: string): Promise<number> {
    return this.count(`SELECT series_count FROM label_names WHERE ${this.keys.nameColumn} = ?${this.time.sql}`, [this.keys.keyOf(name)]);
  }

  async seriesWithPair(name: string, value: string): Promise<number> {
    const { nameColumn, valueColumn, keyOf } = this.keys;
    return this.count(`SELECT series_count FROM label_values WHERE ${nameColumn} = ? AND ${valueColumn} = ?${this.time.sql}`, [
      keyOf(name),
      keyOf(value),
    ]);
  }

  private async count(sql: string, params: SqlValue[]): Promise<number> {
    const [row] = await this.db.query<{ series_count: SqlCount }>(sql, [...params, ...this.time.params]);
    return row ? Number(row.series_count) : 0;
  }
}

type SqlCount = number | bigint;

/** `first_seen <= end AND last_seen >= start` for the bounds given; empty SQL when none. */
export function timeBoundsCondition(prefix: string, { start, end }: TimeRange): SqlFragment {
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  if (end !== undefined) {
    conditions.push(`${prefix}first_seen <= ?`);
    params.push(end);
  }
  if (start !== undefined) {
    conditions.push(`${prefix}last_seen >= ?`);
    params.push(start);
  }
  return { sql: conditions.join(' AND '), params };
}
