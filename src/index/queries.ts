import { InvalidInputError } from '../errors.js';
import type { MetricType } from '../remote-write/types.js';
import { assertSelective, METRIC_NAME_LABEL, type Matcher } from './matcher.js';
import { matchingHashesSql, timeBoundsCondition } from './matcher-plan.js';
import type { LabelQuery, LabelSet, MetadataQuery, MetricMetadataEntry, SeriesQuery, TimeRange } from './series-index.js';
import { labelKeysOf, type SqlFragment, type SqlStore } from './sql-store.js';

/**
 * The read side of the index, with Prometheus semantics. Ordering is done by SQL (byte order of the
 * UTF-8 text, like Go's string comparison; MySQL columns must use a binary collation for the same).
 * Label names and values are matched and joined by their key columns and returned from the text
 * columns of `label_names` / `label_values` (see `LabelKeys`): postings may hold keys only.
 */

export async function querySeries(store: SqlStore, matcherSets: readonly Matcher[][], query: SeriesQuery = {}): Promise<LabelSet[]> {
  if (matcherSets.length === 0) throw new InvalidInputError('no match[] parameter provided');
  const { range, limit } = validated(query, matcherSets);
  const hashes = await matchingHashesSql(store, matcherSets, range);
  if (!hashes) return [];
  const time = timeBoundsCondition('s.', range);
  const rows = await store.query<{ labels: string }>(
    `SELECT s.labels FROM series s WHERE s.hash IN (${hashes.sql})${and(time)} ORDER BY s.series_key${limitClause(limit)}`,
    [...hashes.params, ...time.params],
  );
  return rows.map((row) => labelSetFromJson(row.labels));
}

export async function queryLabelNames(store: SqlStore, query: LabelQuery = {}): Promise<string[]> {
  const { range, limit, matcherSets } = validated(query, query.matcherSets ?? []);
  const { nameColumn } = labelKeysOf(store.dialect);
  let rows: { label_name: string }[];
  if (matcherSets.length > 0) {
    const series = await matchingSeriesSql(store, matcherSets, range);
    if (!series) return [];
    rows = await store.query(
      `SELECT n.label_name FROM label_names n WHERE n.${nameColumn} IN (SELECT p.${nameColumn} FROM label_postings p WHERE p.series_hash IN (${series.sql})) ORDER BY n.label_name${limitClause(limit)}`,
      series.params,
    );
  } else {
    const bounds = timeBoundsCondition('n.', range);
    const exact = seriesInRangeExists(range, `p.${nameColumn} = n.${nameColumn}`);
    rows = await store.query(
      `SELECT n.label_name FROM label_names n${where(bounds, exact)} ORDER BY n.label_name${limitClause(limit)}`,
      [...bounds.params, ...exact.params],
    );
  }
  return rows.map((r) => r.label_name);
}

export async function queryLabelValues(store: SqlStore, name: string, query: LabelQuery = {}): Promise<string[]> {
  if (name === '') throw new InvalidInputError('invalid label name: must not be empty', [{ where: 'label name', reason: 'empty' }]);
  const { range, limit, matcherSets } = validated(query, query.matcherSets ?? []);
  const { nameColumn, valueColumn, keyOf } = labelKeysOf(store.dialect);
  const nameKey = keyOf(name);
  let rows: { label_value: string }[];
  if (matcherSets.length > 0) {
    const series = await matchingSeriesSql(store, matcherSets, range);
    if (!series) return [];
    rows = await store.query(
      `SELECT v.label_value FROM label_values v WHERE v.${nameColumn} = ? AND v.${valueColumn} IN (SELECT p.${valueColumn} FROM label_postings p WHERE p.${nameColumn} = ? AND p.series_hash IN (${series.sql})) ORDER BY v.label_value${limitClause(limit)}`,
      [nameKey, nameKey, ...series.params],
    );
  } else {
    const bounds = timeBoundsCondition('v.', range);
    const exact = seriesInRangeExists(range, `p.${nameColumn} = v.${nameColumn} AND p.${valueColumn} = v.${valueColumn}`);
    rows = await store.query(
      `SELECT v.label_value FROM label_values v WHERE v.${nameColumn} = ?${and(bounds)}${and(exact)} ORDER BY v.label_value${limitClause(limit)}`,
      [nameKey, ...bounds.params, ...exact.params],
    );
  }
  return rows.map((r) => r.label_value);
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

/** The hashes of matching series that are in the time range. */
async function matchingSeriesSql(store: SqlStore, matcherSets: readonly Matcher[][], range: TimeRange): Promise<SqlFragment | undefined> {
  const hashes = await matchingHashesSql(store, matcherSets, range);
  if (!hashes) return undefined;
  const time = timeBoundsCondition('s.', range);
  if (!time.sql) return hashes;
  return { sql: `SELECT s.hash FROM series s WHERE s.hash IN (${hashes.sql}) AND ${time.sql}`, params: [...hashes.params, ...time.params] };
}

/**
 * The exact check behind the time bounds of `label_names` / `label_values`: some series carrying the
 * label is itself in the range (the bounds alone would also admit a label whose series all lie
 * before and after the range).
 */
function seriesInRangeExists(range: TimeRange, postingsFilter: string): SqlFragment {
  const time = timeBoundsCondition('s.', range);
  if (!time.sql) return time;
  return {
    sql: `EXISTS (SELECT 1 FROM label_postings p JOIN series s ON s.hash = p.series_hash WHERE ${postingsFilter} AND ${time.sql})`,
    params: time.params,
  };
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

/** The limit is a validated integer, so it is inlined: MySQL's prepared LIMIT placeholders are fussy. */
function limitClause(limit: number | undefined): string {
  return limit === undefined ? '' : ` LIMIT ${limit}`;
}

function and(fragment: SqlFragment): string {
  return fragment.sql ? ` AND ${fragment.sql}` : '';
}

function where(...fragments: SqlFragment[]): string {
  const sql = fragments.map((f) => f.sql).filter(Boolean);
  return sql.length ? ` WHERE ${sql.join(' AND ')}` : '';
}

function labelSetFromJson(json: string): LabelSet {
  const pairs = JSON.parse(json) as [string, string][];
  const labels: LabelSet = {};
  const metricName = pairs.find(([name]) => name === METRIC_NAME_LABEL);
  if (metricName) labels[METRIC_NAME_LABEL] = metricName[1];
  for (const [name, value] of pairs) if (name !== METRIC_NAME_LABEL) labels[name] = value;
  return labels;
}
