import type { SeriesBatch } from '../series/canonical.js';
import type { MetricType } from '../remote-write/types.js';
import type { Matcher } from './matcher.js';

/**
 * The searchable index of every series, label and metric, as the Prometheus HTTP API serves it
 * (/api/v1/series, /labels, /label/<name>/values, /metadata). The HTTP API and the index sink depend
 * on this interface only; SQLite and MySQL implement it with the same schema and queries.
 *
 * Times are milliseconds since the epoch. A series is in a time range when it was seen in it:
 * `first_seen <= end && last_seen >= start`. A `limit` of 0 or undefined means no limit.
 */
export interface SeriesIndex {
  /** Upserts the batch's series and metadata in one transaction. Idempotent. */
  writeBatch(batch: SeriesBatch): Promise<WriteBatchResult>;
  /** Label sets of the series matching any of the matcher sets, sorted by series key. */
  series(matcherSets: readonly Matcher[][], query?: SeriesQuery): Promise<LabelSet[]>;
  /** Label names, sorted; only those of matching series when `matcherSets` is non-empty. */
  labelNames(query?: LabelQuery): Promise<string[]>;
  /** Values of one label, sorted; only those of matching series when `matcherSets` is non-empty. */
  labelValues(name: string, query?: LabelQuery): Promise<string[]>;
  /** Metric metadata by metric family, like /api/v1/metadata. */
  metadata(query?: MetadataQuery): Promise<Record<string, MetricMetadataEntry[]>>;
  stats(): Promise<SeriesIndexStats>;
  close(): Promise<void>;
}

export interface TimeRange {
  start?: number;
  end?: number;
}

export interface SeriesQuery extends TimeRange {
  limit?: number;
}

export interface LabelQuery extends TimeRange {
  /** OR of ANDs, one set per `match[]`; absent or empty means every series. */
  matcherSets?: readonly Matcher[][];
  limit?: number;
}

export interface MetadataQuery {
  /** Only this metric family. */
  metric?: string;
  /** At most this many metric families. */
  limit?: number;
  /** At most this many entries per metric family. */
  limitPerMetric?: number;
}

/** A series' labels, `__name__` first, then in label-name order. */
export type LabelSet = Record<string, string>;

export interface MetricMetadataEntry {
  type: MetricType;
  help: string;
  unit: string;
}

/**
 * Two different series keys with the same 64-bit hash. The index keeps the series it stored first
 * and drops the other one (it is reported, never merged into the first).
 */
export interface HashCollision {
  hash: bigint;
  keptKey: string;
  droppedKey: string;
}

export interface WriteBatchResult {
  /** Series the index did not have before. */
  newSeries: number;
  /** Series it had, whose first/last seen times were merged. */
  updatedSeries: number;
  hashCollisions: HashCollision[];
}

export interface SeriesIndexStats {
  series: number;
  /** Hash collisions seen by this process since the index was opened. */
  hashCollisions: number;
}
