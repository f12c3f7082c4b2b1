import type { Label, MetricMetadata, WriteCounts } from '../remote-write/types.js';

/**
 * A series after canonicalization: labels sorted by name, validated, empty values dropped.
 * `hash` is the series' identity everywhere downstream (Kafka key, index primary key);
 * see docs/series-hash.md for its definition.
 */
export interface CanonicalSeries {
  labels: Label[];
  /** Value of `__name__`, or '' when the series has none. */
  metricName: string;
  /** `name{a="b",…}` with Prometheus escaping. */
  key: string;
  /** Unsigned 64-bit xxHash64 over the sorted label pairs. */
  hash: bigint;
  /** Smallest and largest sample/histogram timestamp in the request (ms); receive time if none. */
  firstTimestamp: number;
  lastTimestamp: number;
}

/** What flows from canonicalize onwards: a batch of series, not single samples. */
export interface SeriesBatch {
  series: CanonicalSeries[];
  metadata: MetricMetadata[];
  /** Wall-clock receive time (ms). */
  receivedAt: number;
  /** What the originating request(s) carried, for response headers and metrics. */
  counts: WriteCounts;
}

/**
 * The labels in canonical order, empty values dropped. Senders (Prometheus among them) send
 * labels sorted and without empty values: then there is nothing to copy or sort.
 */
export function canonicalLabels(labels: Label[]): Label[] {
  return isSortedWithoutEmpty(labels) ? labels : labels.filter((l) => l.value !== '').sort(byName);
}

function isSortedWithoutEmpty(labels: Label[]): boolean {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i].value === '') return false;
    if (i > 0 && labels[i - 1].name >= labels[i].name) return false;
  }
  return true;
}

function byName(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
