import { expect } from 'vitest';
import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import { seriesHash } from '../series/series-hash.js';
import { SeriesCanonicalizer } from '../series/canonicalize.js';
import { HashedSeriesBatch } from '../series/hashed-batch.js';
import { DEFAULT_SERIES_RULES } from '../series/validation.js';
import { scanWriteRequestV1 } from '../remote-write/decode/raw-v1.js';
import { encodeWriteRequestV1 } from '../remote-write/reference-codec.test-support.js';
import type { MetricMetadata } from '../remote-write/types.js';

/** A plain SeriesBatch of series known only by these hashes (`m<hash>`). */
export function seriesBatch(...hashes: bigint[]): SeriesBatch {
  const series = (hash: bigint): CanonicalSeries => ({ labels: [{ name: '__name__', value: `m${hash}` }], metricName: `m${hash}`, key: `m${hash}{}`, hash, firstTimestamp: 0, lastTimestamp: 0 });
  return { series: hashes.map(series), metadata: [], receivedAt: 0, counts: { samples: hashes.length, histograms: 0, exemplars: 0 } };
}

/** A raw 1.0 request of these series (by number, `m<i>{job="j"}`), canonicalized into a hashed batch. */
export function hashedBatch(ids: number[], metadata: MetricMetadata[] = []): HashedSeriesBatch {
  const body = encodeWriteRequestV1({
    version: '1.0',
    timeseries: ids.map((i) => ({ labels: [{ name: '__name__', value: `m${i}` }, { name: 'job', value: 'j' }], samples: [{ value: 1, timestamp: 1000 + i }], exemplars: [], histograms: [] })),
    metadata,
  });
  const batch = new SeriesCanonicalizer(DEFAULT_SERIES_RULES, { labelCacheBytes: 1 << 20 }).canonicalize(scanWriteRequestV1(body)!, Date.now()).batch;
  expect(batch).toBeInstanceOf(HashedSeriesBatch);
  return batch as HashedSeriesBatch;
}

/** The hash of series `i` of `hashedBatch`. */
export const hashOf = (i: number) => seriesHash([{ name: '__name__', value: `m${i}` }, { name: 'job', value: 'j' }]);
