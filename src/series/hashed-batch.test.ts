import { describe, expect, it } from 'vitest';
import { SeriesCanonicalizer } from './canonicalize.js';
import { HashedSeriesBatch } from './hashed-batch.js';
import { scanWriteRequestV1 } from '../remote-write/decode/raw-v1.js';
import { encodeWriteRequestV1 } from '../remote-write/reference-codec.test-support.js';
import type { TimeSeries, WriteRequest } from '../remote-write/types.js';
import { DEFAULT_SERIES_RULES } from './validation.js';

const ts = (name: string, times: number[]): TimeSeries => ({
  labels: [
    { name: '__name__', value: name },
    { name: 'job', value: 'j' },
  ],
  samples: times.map((timestamp) => ({ value: 1, timestamp })),
  exemplars: [],
  histograms: [],
});

function hashedBatch(timeseries: TimeSeries[]): HashedSeriesBatch {
  const body = encodeWriteRequestV1({ version: '1.0', timeseries, metadata: [], counts: { samples: 0, histograms: 0, exemplars: 0 } } as WriteRequest);
  const { batch } = new SeriesCanonicalizer(DEFAULT_SERIES_RULES, { labelCacheBytes: 1 << 20 }).canonicalize(scanWriteRequestV1(body)!, 1_000);
  return batch as HashedSeriesBatch;
}

const ranges = (b: HashedSeriesBatch) => Array.from({ length: b.size }, (_, c) => [b.canonical(c).metricName, b.firstTimestamp(c), b.lastTimestamp(c)]);

describe('HashedSeriesBatch.subset', () => {
  it('keeps each series once, in the order given, with the widest time range of its repeats', () => {
    const batch = hashedBatch([ts('a', [10]), ts('b', [5, 6]), ts('a', [3, 20]), ts('c', [])]);
    expect(batch.size).toBe(4);
    const all = batch.subset([0, 1, 2, 3], []);
    // c has no sample: the receive time.
    expect(ranges(all)).toEqual([
      ['a', 3, 20],
      ['b', 5, 6],
      ['c', 1_000, 1_000],
    ]);
    expect(ranges(batch.subset([3, 1], []))).toEqual([
      ['c', 1_000, 1_000],
      ['b', 5, 6],
    ]);
  });

  it('passes merged ranges on to a subset of a subset', () => {
    const merged = hashedBatch([ts('a', [10]), ts('b', [5]), ts('a', [3, 20])]).subset([0, 1, 2], []);
    expect(ranges(merged.subset([0], []))).toEqual([['a', 3, 20]]);
    expect(ranges(merged.subset([1, 0], []))).toEqual([
      ['b', 5, 5],
      ['a', 3, 20],
    ]);
    expect(merged.subset([0], []).series.map((s) => [s.key, s.firstTimestamp, s.lastTimestamp])).toEqual([['a{job="j"}', 3, 20]]);
  });
});
