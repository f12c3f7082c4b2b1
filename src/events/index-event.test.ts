import { describe, expect, it } from 'vitest';
import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import { seriesHash } from '../series/series-hash.js';
import { seriesKey } from '../series/series-key.js';
import { decodeIndexEvents, encodeSeriesBatch } from './index-event.js';

const series = (labels: Array<[string, string]>, first: number, last: number): CanonicalSeries => {
  const l = labels.map(([name, value]) => ({ name, value }));
  return { labels: l, metricName: l.find((x) => x.name === '__name__')?.value ?? '', key: seriesKey(l), hash: seriesHash(l), firstTimestamp: first, lastTimestamp: last };
};

const batch: SeriesBatch = {
  series: [series([['__name__', 'up'], ['job', 'node']], 1000, 2000), series([['__name__', 'é€😀'], ['a', 'line\nbreak']], 1_700_000_000_123, 1_700_000_000_999)],
  metadata: [{ metricFamilyName: 'up', type: 'gauge', help: 'Whether the target is up.', unit: '' }],
  receivedAt: 1_700_000_001_000,
  counts: { samples: 3, histograms: 0, exemplars: 0 },
};

describe('index events', () => {
  it('round-trip a batch: one message per partition that has entries', () => {
    const events = encodeSeriesBatch(batch, 'production/ingest', 1);
    expect(events).toHaveLength(1);
    expect([events[0].series, events[0].metadata]).toEqual([2, 1]);
    const { batch: decoded, corrupt } = decodeIndexEvents(events.map((e) => e.value));
    expect(corrupt).toEqual([]);
    expect(decoded.series).toEqual(batch.series);
    expect(decoded.metadata).toEqual(batch.metadata);
    expect(decoded.receivedAt).toBe(batch.receivedAt);
  });

  it('reports garbage, empty and tampered messages instead of indexing them', () => {
    const [good] = encodeSeriesBatch({ ...batch, series: batch.series.slice(0, 1), metadata: [] }, 's', 1);
    const [second] = encodeSeriesBatch({ ...batch, series: batch.series.slice(1), metadata: [] }, 's', 1);
    const tampered = Buffer.from(second.value);
    const at = tampered.indexOf(Buffer.from('line'));
    tampered[at] = 'L'.charCodeAt(0);
    const { batch: decoded, corrupt } = decodeIndexEvents([good.value, Buffer.from([0xff, 0xff, 0xff]), null, tampered]);
    expect(decoded.series.map((s) => s.key)).toEqual([batch.series[0].key]);
    expect(corrupt.map((c) => c.index)).toEqual([1, 2, 3]);
    expect(corrupt[2].reason).toMatch(/hash does not match/);
  });
});
