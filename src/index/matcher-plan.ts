import type { Matcher } from './matcher.js';
import type { TimeRange } from './series-index.js';
import { labelKeysOf, type LabelKeys, type SqlExecutor, type SqlFragment, type SqlStore, type SqlValue } from './sql-store.js';

/**
 * Turns matcher sets into one SQL subquery yielding the hashes of the matching series.
 *
 * A series lacking a label reads as `""` there, and canonical series never store empty values, so:
 * - a matcher that does NOT match `""` requires the label with one of the values it matches
 *   ("required" postings);
 * - a matcher that matches `""` forbids the label with any value it does not match ("excluded").
 * Which stored values a regex (or `!=`) matches is decided in JS, against the distinct values of that
 * label, and travels to SQL as a value list: RE2 semantics stay identical on every database.
 * The required condition with the fewest series drives the query; the others filter it.
 */

/** Postings of one label name, restricted to some values or to any value. */
interface PostingsCondition {
  name: string;
  values: readonly string[] | 'any';
  /** Series carrying it (an upper bound), to pick the driving condition. */
  estimatedSeries: number;
}

interface MatcherSetPlan {
  required: PostingsCondition[];
  excluded: PostingsCondition[];
}

interface StoredValue {
  value: string;
  seriesCount: number;
}

/**
 * The hashes of series matching any of the sets, as a subquery; `undefined` when provably none match.
 * Sets must each contain a matcher that does not match `""` (see `assertSelective`).
 */
export async function matchingHashesSql(
  store: SqlStore,
  matcherSets: readonly (readonly Matcher[])[],
  range: TimeRange,
): Promise<SqlFragment | undefined> {
  const labels = new StoredLabels(store, labelKeysOf(store.dialect), range);
  const parts: SqlFragment[] = [];
  for (const matchers of matcherSets) {
    const plan = await planMatcherSet(matchers, labels);
    if (plan) parts.push(planToSql(store, plan));
  }
  if (parts.length === 0) return undefined;
  return { sql: parts.map((p) => p.sql).join(' UNION '), params: parts.flatMap((p) => p.params) };
}

async function planMatcherSet(matchers: readonly Matcher[], labels: StoredLabels): Promise<MatcherSetPlan | undefined> {
  const plan: MatcherSetPlan = { required: [], excluded: [] };
  for (const matcher of matchers) {
    const requires = !matcher.matches('');
    const condition = await conditionFor(matcher, requires, labels);
    if (condition === undefined) {
      if (requires) return undefined; // requires a value no series in range has
      continue; // excludes nothing
    }
    (requires ? plan.required : plan.excluded).push(condition);
  }
  if (plan.required.length === 0) throw new Error('matcher set without a matcher that rejects ""; call assertSelective first');
  plan.required.sort((a, b) => a.estimatedSeries - b.estimatedSeries);
  return plan;
}

/** The postings a matcher requires (or excludes); `undefined` when that set of values is empty. */
async function conditionFor(matcher: Matcher, requires: boolean, labels: StoredLabels): Promise<PostingsCondition | undefined> {
  const { name, type, value } = matcher;
  // Equality needs no value list: its condition is the matcher itself.
  if (type === '=' || type === '!=') {
    if (value === '') {
      // `a=""` excludes every value of a; `a!=""` requires any value of a.
      const estimatedSeries = requires ? await labels.seriesWithName(name) : 0;
      return requires && estimatedSeries === 0 ? undefined : { name, values: 'any', estimatedSeries };
    }
    const estimatedSeries = requires ? await labels.seriesWithPair(name, value) : 0;
    return requires && estimatedSeries === 0 ? undefined : { name, values: [value], estimatedSeries };
  }
  // Regex: required are the values it matches, excluded the values it rejects.
  const stored = await labels.values(name);
  const selected = stored.filter((v) => matcher.matches(v.value) === requires);
  if (selected.length === 0) return undefined;
  const estimatedSeries = selected.reduce((sum, v) => sum + v.seriesCount, 0);
  return { name, values: selected.length === stored.length ? 'any' : selected.map((v) => v.value), estimatedSeries };
}

function planToSql(store: SqlStore, plan: MatcherSetPlan): SqlFragment {
  const [driver, ...others] = plan.required;
  const driverCondition = postingsCondition(store, driver, 'd.');
  const conditions = [driverCondition.sql];
  const params = [...driverCondition.params];
  for (const [conditionsOfKind, operator] of [[others, 'IN'], [plan.excluded, 'NOT IN']] as const) {
    for (const condition of conditionsOfKind) {
      const filter = postingsCondition(store, condition, '');
      conditions.push(`d.series_hash ${operator} (SELECT series_hash FROM label_postings WHERE ${filter.sql})`);
      params.push(...filter.params);
    }
  }
  return { sql: `SELECT d.series_hash FROM label_postings d WHERE ${conditions.join(' AND ')}`, params };
}

function postingsCondition(store: SqlStore, condition: PostingsCondition, prefix: string): SqlFragment {
  const keys = labelKeysOf(store.dialect);
  const params: SqlValue[] = [keys.keyOf(condition.name)];
  let sql = `${prefix}${keys.nameColumn} = ?`;
  if (condition.values !== 'any') {
    const list = store.dialect.inList(`${prefix}${keys.valueColumn}`, condition.values.map(keys.keyOf));
    sql += ` AND ${list.sql}`;
    params.push(...list.params);
  }
  return { sql, params };
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
