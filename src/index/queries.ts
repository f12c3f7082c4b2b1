import { InvalidInputError } from '../errors.js';
import type { MetricType } from '../remote-write/types.js';
import { assertSelective, type Matcher } from './matcher.js';
import { firstMatchingSeries, matchingSeries, timeBoundsCondition } from './matcher-plan.js';
import { anySeriesIn, type PostingsSelection } from './postings.js';
import type { LabelQuery, LabelSet, MetadataQuery, MetricMetadataEntry, SeriesQuery, TimeRange } from './series-index.js';
import { labelKeysOf, type SqlFragment, type SqlStore, type SqlValue } from './sql-store.js';

/**
 * The read side of the index, with Prometheus semantics. Everything is ordered by the bytes of the
 * UTF-8 text, like Go's string comparison: by SQL where it lists label names and values (MySQL
 * columns use a binary collation for that), in JS where it assembles matched series. Label names
 * and values are matched by their key columns and returned from the text columns of
 * `label_names` / `label_values` (see `LabelKeys`): postings hold keys only.
 */

export async function querySeries(store: SqlStore, matcherSets: readonly Matcher[][], query: SeriesQuery = {}): Promise<LabelSet[]> {
  if (matcherSets.length === 0) throw new InvalidInputError('no match[] parameter provided');
  const { range, limit, matcherSets: sets } = validated(query, matcherSets);
  if (limit !== undefined) return (await firstMatchingSeries(store, sets, range, limit)).map((series) => series.labelSet);
  const matched = await matchingSeries(store, sets, range);
  const keyed = matched.map((series) => ({ series, key: Buffer.from(series.key) }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map(({ series }) => series.labelSet);
}

export async function queryLabelNames(store: SqlStore, query: LabelQuery = {}): Promise<string[]> {
  const { range, limit, matcherSets } = validated(query, query.matcherSets ?? []);
  if (matcherSets.length > 0) {
    const names = new Set((await matchingSeries(store, matcherSets, range)).flatMap((s) => Object.keys(s.labelSet)));
    return truncate(sortedBytewise(names), limit);
  }
  const bounds = timeBoundsCondition('', range);
  const rows = await store.query<LabelRow & { label_name: string }>(
    `SELECT label_name, first_seen, last_seen FROM label_names${bounds.sql ? ` WHERE ${bounds.sql}` : ''} ORDER BY label_name`,
    bounds.params,
  );
  return inRangeExactly(store, rows, range, limit, (row) => ({ name: row.label_name, values: 'any' }), (row) => row.label_name);
}

export async function queryLabelValues(store: SqlStore, name: string, query: LabelQuery = {}): Promise<string[]> {
  if (name === '') throw new InvalidInputError('invalid label name: must not be empty', [{ where: 'label name', reason: 'empty' }]);
  const { range, limit, matcherSets } = validated(query, query.matcherSets ?? []);
  if (matcherSets.length > 0) {
    const values = new Set<string>();
    for (const series of await matchingSeries(store, matcherSets, range)) {
      const value = series.labelSet[name];
      if (value !== undefined) values.add(value);
    }
    return truncate(sortedBytewise(values), limit);
  }
  const { nameColumn, keyOf } = labelKeysOf(store.dialect);
  const bounds = timeBoundsCondition('', range);
  const rows = await store.query<LabelRow & { label_value: string }>(
    `SELECT label_value, first_seen, last_seen FROM label_values WHERE ${nameColumn} = ?${bounds.sql ? ` AND ${bounds.sql}` : ''} ORDER BY label_value`,
    [keyOf(name), ...bounds.params],
  );
  return inRangeExactly(store, rows, range, limit, (row) => ({ name, values: [row.label_value] }), (row) => row.label_value);
}

interface LabelRow {
  first_seen: SqlValue;
  last_seen: SqlValue;
}

/**
 * Of the label rows whose time bounds overlap the range (in order), those with a series in the
 * range, up to `limit`. A label's bounds are the min first_seen and the max last_seen of its series,
 * so the range holds a series of the label for sure when it holds either bound: the series with
 * that first_seen (or last_seen) is in it. Only a range strictly inside the bounds needs a look at
 * the label's series (they may all lie before and after it): its postings are streamed and the
 * look stops at the first series in the range (`anySeriesIn`), so memory stays bounded by a page.
 */
async function inRangeExactly<Row extends LabelRow>(
  store: SqlStore,
  rows: readonly Row[],
  range: TimeRange,
  limit: number | undefined,
  postingsOf: (row: Row) => PostingsSelection,
  textOf: (row: Row) => string,
): Promise<string[]> {
  const { start, end } = range;
  const time = timeBoundsCondition('', range);
  const found: string[] = [];
  for (const row of rows) {
    if (limit !== undefined && found.length >= limit) break;
    const first = Number(row.first_seen);
    const last = Number(row.last_seen);
    const certain = start === undefined || end === undefined || first >= start || last <= end;
    if (certain || (await anySeriesIn(store, store.dialect, postingsOf(row), time))) found.push(textOf(row));
  }
  return found;
}

export async function queryMetadata(store: SqlStore, query: MetadataQuery = {}): Promise<Record<string, MetricMetadataEntry[]>> {
  const limit = validLimit(query.limit, 'limit');
  const limitPerMetric = validLimit(query.limitPerMetric, 'limit_per_metric');
  const families: SqlFragment =
    query.metric !== undefined
      ? { sql: 'SELECT ? AS metric_family', params: [query.metric] }
      : { sql: `SELECT DISTINCT metric_family FROM metric_metadata ORDER BY metric_family${limitClause(limit)}`, params: [] };
  // A derived table rather than `IN (… LIMIT n)`, which MySQL does not support.
  const rows = await store.query<{ metric_family: string; type: MetricType; help: string; unit: string }>(
    `SELECT m.metric_family, m.type, m.help, m.unit FROM metric_metadata m JOIN (${families.sql}) f ON f.metric_family = m.metric_family ORDER BY m.metric_family, m.type, m.unit, m.help`,
    families.params,
  );
  const result: Record<string, MetricMetadataEntry[]> = {};
  for (const row of rows) {
    const entries = (result[row.metric_family] ??= []);
    if (limitPerMetric === undefined || entries.length < limitPerMetric) entries.push({ type: row.type, help: row.help, unit: row.unit });
  }
  return result;
}

function validated<Q extends TimeRange & { limit?: number }>(query: Q, matcherSets: readonly Matcher[][]) {
  const { start, end } = query;
  for (const [name, value] of [['start', start], ['end', end]] as const) {
    if (value !== undefined && !Number.isFinite(value)) throw new InvalidInputError(`invalid parameter "${name}": not a finite time`);
  }
  if (start !== undefined && end !== undefined && end < start) {
    throw new InvalidInputError('invalid parameter "end": end timestamp must not be before start time');
  }
  matcherSets.forEach((matchers, i) => assertSelective(matchers, `match[] #${i + 1}`));
  return { range: { start, end }, limit: validLimit(query.limit, 'limit'), matcherSets };
}

/** A positive integer, or undefined for no limit (0 means no limit, as in Prometheus). */
function validLimit(limit: number | undefined, name: string): number | undefined {
  if (limit === undefined || limit === 0) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidInputError(`invalid parameter "${name}": must be a non-negative integer`);
  return limit;
}

function truncate<T>(items: T[], limit: number | undefined): T[] {
  return limit === undefined ? items : items.slice(0, limit);
}

/** Go's string order: by UTF-8 bytes (JS's `<` compares UTF-16 units, which differs above U+FFFF). */
function sortedBytewise(texts: Iterable<string>): string[] {
  return [...texts]
    .map((text) => ({ text, bytes: Buffer.from(text) }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map(({ text }) => text);
}

/** The limit is a validated integer, so it is inlined: MySQL's prepared LIMIT placeholders are fussy. */
function limitClause(limit: number | undefined): string {
  return limit === undefined ? '' : ` LIMIT ${limit}`;
}
