import { describe, expect, it, vi } from 'vitest';
import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import { hashHigh, seriesHash } from '../series/series-hash.js';
import { seriesKey } from '../series/series-key.js';
import { metadataHash } from '../series/metadata-identity.js';
import type { MetricMetadata } from '../remote-write/types.js';
import { decodeIndexEvents, encodeSeriesBatch, partitionOf } from './index-event.js';
import { encodeSeriesBatchReference } from './index-event-reference.test-support.js';
import { HashedSeriesBatch } from '../series/hashed-batch.js';
import { SeriesCanonicalizer } from '../series/canonicalize.js';
import { scanWriteRequestV1 } from '../remote-write/decode/raw-v1.js';
import { encodeWriteRequestV1 } from '../remote-write/reference-codec.test-support.js';
import type { TimeSeries } from '../remote-write/types.js';
import { DEFAULT_SERIES_RULES } from '../series/validation.js';

const series = (labels: Array<[string, string]>, first: number, last: number): CanonicalSeries => {
  const l = labels.map(([name, value]) => ({ name, value }));
  return { labels: l, metricName: l.find((x) => x.name === '__name__')?.value ?? '', key: seriesKey(l), hash: seriesHash(l), firstTimestamp: first, lastTimestamp: last };
};

const batchOf = (s: CanonicalSeries[], metadata: MetricMetadata[] = [], receivedAt = 1_700_000_001_000): SeriesBatch => ({
  series: s,
  metadata,
  receivedAt,
  counts: { samples: s.length, histograms: 0, exemplars: 0 },
});

/** Deterministic pseudo-random text: ASCII mostly, with 2-, 3- and 4-byte UTF-8 and long runs now and then. */
function randomText(next: () => number): string {
  const alphabet = ['a', 'Z', '_', '0', ' ', '"', '\n', 'é', '€', '😀', '\u0000', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff'];
  const length = next() < 0.05 ? 100 + Math.floor(next() * 300) : Math.floor(next() * 24);
  let out = '';
  for (let i = 0; i < length; i++) out += next() < 0.8 ? String.fromCharCode(97 + Math.floor(next() * 26)) : alphabet[Math.floor(next() * alphabet.length)];
  return out;
}

function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const TIMESTAMPS = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 1_700_000_000_123, Number.MAX_SAFE_INTEGER, -1, -1_700_000_000_000, -(2 ** 53) + 1];

describe('hand-written IndexEvents encoder', () => {
  it('writes the bytes protobufjs writes, for random labels, timestamps and metadata', () => {
    const next = lcg(42);
    for (let round = 0; round < 50; round++) {
      const s: CanonicalSeries[] = [];
      for (let i = 0; i < 40; i++) {
        const labels: Array<[string, string]> = [['__name__', randomText(next)]];
        const n = Math.floor(next() * 12);
        for (let j = 0; j < n; j++) labels.push([`l${j}_${randomText(next)}`, randomText(next)]);
        labels.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const pick = () => TIMESTAMPS[Math.floor(next() * TIMESTAMPS.length)];
        s.push(series(labels, pick(), pick()));
      }
      const metadata: MetricMetadata[] = [];
      for (let i = 0; i < Math.floor(next() * 4); i++) {
        metadata.push({ metricFamilyName: randomText(next), type: 'counter', help: randomText(next), unit: next() < 0.5 ? '' : randomText(next) });
      }
      const batch = batchOf(s, metadata, TIMESTAMPS[round % TIMESTAMPS.length]);
      const source = round % 3 === 0 ? '' : `ingest/${randomText(next)}`;
      const partitions = 1 + (round % 7);
      const fast = encodeSeriesBatch(batch, source, partitions, Infinity);
      const reference = encodeSeriesBatchReference(batch, source, partitions);
      expect(fast.length).toBe(reference.length);
      for (let i = 0; i < fast.length; i++) {
        expect(fast[i].partition).toBe(reference[i].partition);
        expect([fast[i].series, fast[i].metadata]).toEqual([reference[i].series, reference[i].metadata]);
        expect(fast[i].value.toString('hex')).toBe(reference[i].value.toString('hex'));
      }
    }
  });

  it('matches protobufjs for events past 16 KiB (3-byte lengths) and batches past the scratch buffer', () => {
    const big = series([['__name__', 'big'], ['a', 'x'.repeat(20_000)], ['b', 'é'.repeat(9_000)]], 1, 2);
    const small = Array.from({ length: 2000 }, (_, i) => series([['__name__', `m${i}`], ['job', 'j'.repeat(i % 200)]], i, i + 1));
    const batch = batchOf([...small.slice(0, 1000), big, ...small.slice(1000)], [{ metricFamilyName: 'h', type: 'gauge', help: 'ü'.repeat(70_000), unit: 'u' }]);
    const fast = encodeSeriesBatch(batch, 'ingest/kafka_series', 3, Infinity);
    const reference = encodeSeriesBatchReference(batch, 'ingest/kafka_series', 3);
    expect(fast.map((e) => e.partition)).toEqual(reference.map((e) => e.partition));
    expect(Buffer.concat(fast.map((e) => e.value)).equals(Buffer.concat(reference.map((e) => e.value)))).toBe(true);
  });

  it('is decoded by the indexer with every field intact, each entry in its partition', () => {
    const batch = batchOf(
      [series([['__name__', 'up'], ['job', 'node']], 1000, 2000), series([['__name__', 'é€😀'], ['a', 'line\nbreak']], -5, Number.MAX_SAFE_INTEGER)],
      [{ metricFamilyName: 'up', type: 'gauge', help: 'Whether the target is up.', unit: '' }],
    );
    const events = encodeSeriesBatch(batch, 'production/ingest', 4);
    for (const e of events) {
      const { batch: one } = decodeIndexEvents([e.value]);
      for (const s of one.series) expect(partitionOf(hashHigh(s.hash), 4)).toBe(e.partition);
      for (const m of one.metadata) expect(partitionOf(hashHigh(metadataHash(m)), 4)).toBe(e.partition);
      expect([one.series.length, one.metadata.length]).toEqual([e.series, e.metadata]);
    }
    const { batch: decoded, corrupt } = decodeIndexEvents(events.map((e) => e.value));
    expect(corrupt).toEqual([]);
    expect(new Set(decoded.series.map((s) => s.key))).toEqual(new Set(batch.series.map((s) => s.key)));
    expect(decoded.series.sort((a, b) => a.key.localeCompare(b.key))).toEqual([...batch.series].sort((a, b) => a.key.localeCompare(b.key)));
    expect(decoded.metadata).toEqual(batch.metadata);
  });

  it('closes a message at max_message_bytes and goes on in another for the same partition', () => {
    const many = Array.from({ length: 300 }, (_, i) => series([['__name__', `m${i}`], ['job', 'j'.repeat(50)]], i, i + 1));
    const events = encodeSeriesBatch(batchOf(many), 's', 1, 4096);
    expect(events.length).toBeGreaterThan(5);
    // Each is closed at the first series that takes it to the limit: at most one series past it.
    for (const e of events) expect(e.value.length).toBeLessThan(4096 + 120);
    expect(events.every((e) => e.partition === 0)).toBe(true);
    expect(events.reduce((n, e) => n + e.series, 0)).toBe(300);
    const { batch: decoded, corrupt } = decodeIndexEvents(events.map((e) => e.value));
    expect(corrupt).toEqual([]);
    expect(decoded.series).toEqual(many);
  });

  it('the messages of one batch share one buffer, and an empty batch encodes to nothing', () => {
    const events = encodeSeriesBatch(batchOf(Array.from({ length: 20 }, (_, i) => series([['__name__', `m${i}`]], 1, 1))), 's', 4);
    expect(new Set(events.map((e) => e.partition)).size).toBe(events.length);
    for (const e of events) expect(e.value.buffer).toBe(events[0].value.buffer);
    expect(encodeSeriesBatch(batchOf([]), 's', 4)).toEqual([]);
  });

  it("writes a raw request's series from their label bytes, byte for byte as from the built series", () => {
    const ts = (labels: Array<[string, string]>, times: number[]): TimeSeries => ({
      labels: labels.map(([name, value]) => ({ name, value })),
      samples: times.map((timestamp) => ({ value: 1, timestamp })),
      exemplars: [],
      histograms: [],
    });
    const timeseries = [
      ts([['__name__', 'up'], ['instance', 'a:9100'], ['job', 'node']], [1000, 2000]),
      ts([['job', 'node'], ['__name__', 'unsorted']], [5]), // sorted by canonicalize: not copied as is
      ts([['__name__', 'empty_value'], ['a', ''], ['b', 'x']], [7]), // the empty label is dropped
      ts([['__name__', 'no_samples'], ['job', 'j']], []),
      ts([['__name__', 'up'], ['instance', 'a:9100'], ['job', 'node']], [500, 2500]), // the first one again: merged
      ts([['__name__', 'long'], ['v', 'x'.repeat(300)]], [9]), // two-byte lengths
      ...Array.from({ length: 200 }, (_, i) => ts([['__name__', `m${i % 7}`], ['i', String(i)], ['zone', 'eu']], [i])),
    ];
    const body = encodeWriteRequestV1({ version: '1.0', timeseries, metadata: [{ metricFamilyName: 'up', type: 'gauge', help: 'h', unit: '' }], counts: { samples: 0, histograms: 0, exemplars: 0 } } as never);
    const canonicalizer = new SeriesCanonicalizer(DEFAULT_SERIES_RULES, { labelCacheBytes: 1 << 20 });
    for (const pass of ['cold cache', 'warm cache']) {
      const { batch, invalid } = canonicalizer.canonicalize(scanWriteRequestV1(body)!, 1_700_000_000_000);
      expect(invalid, pass).toEqual([]);
      expect(batch).toBeInstanceOf(HashedSeriesBatch);
      const hashed = batch as HashedSeriesBatch;
      const every = Array.from({ length: hashed.size }, (_, i) => i);
      const subset = hashed.subset(every, hashed.metadata);
      const built = { ...batchOf(hashed.build(every), hashed.metadata, hashed.receivedAt) };
      expect(subset.size, pass).toBe(built.series.length);
      const canonical = vi.spyOn(subset, 'canonical');
      const fromRaw = encodeSeriesBatch(subset, 'ingest/kafka', 3);
      // Only the two series whose bytes are not canonical as sent are built.
      const built$ = canonical.mock.calls.map(([c]) => c);
      canonical.mockRestore();
      expect(built$.map((c) => subset.canonical(c).metricName).sort(), pass).toEqual(['empty_value', 'unsorted']);
      const fromBuilt = encodeSeriesBatch(built, 'ingest/kafka', 3);
      expect(fromRaw.map((e) => [e.partition, e.series, e.metadata, e.value.toString('hex')]), pass).toEqual(fromBuilt.map((e) => [e.partition, e.series, e.metadata, e.value.toString('hex')]));
      const decoded = decodeIndexEvents(fromRaw.map((e) => e.value));
      expect(decoded.corrupt).toEqual([]);
      const up = decoded.batch.series.find((s) => s.key === 'up{instance="a:9100",job="node"}')!;
      expect([up.firstTimestamp, up.lastTimestamp]).toEqual([500, 2500]);
      expect(decoded.batch.series.find((s) => s.metricName === 'no_samples')!.firstTimestamp).toBe(1_700_000_000_000);
    }
  });
});
