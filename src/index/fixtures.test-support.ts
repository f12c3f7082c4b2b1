import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import { seriesKey } from '../series/series-key.js';
import type { MetricMetadata } from '../remote-write/types.js';

/**
 * Builders of index input for the index's tests (not used at runtime). Keys are the canonical
 * `seriesKey` (the index derives keys from stored labels); hashes are FNV-1a 64 of the key, so about
 * half of them are ≥ 2^63 and exercise the signed storage conversion.
 */

export interface SeriesTimes {
  first: number;
  last: number;
  /** Override the hash, e.g. to force a collision. */
  hash?: bigint;
}

export function canonicalSeries(labels: Record<string, string>, { first, last, hash }: SeriesTimes): CanonicalSeries {
  const sorted = Object.entries(labels)
    .filter(([, value]) => value !== '')
    .sort(([a], [b]) => compareBytes(a, b))
    .map(([name, value]) => ({ name, value }));
  const metricName = labels.__name__ ?? '';
  const key = seriesKey(sorted);
  return { labels: sorted, metricName, key, hash: hash ?? fnv1a64(key), firstTimestamp: first, lastTimestamp: last };
}

export function seriesBatch(series: CanonicalSeries[], metadata: MetricMetadata[] = [], receivedAt = 0): SeriesBatch {
  return { series, metadata, receivedAt, counts: { samples: series.length, histograms: 0, exemplars: 0 } };
}

/** Go's string order: by UTF-8 bytes (JS's `<` compares UTF-16 units, which differs above U+FFFF). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function fnv1a64(text: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text)) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  return hash;
}
