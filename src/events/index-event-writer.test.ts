import { describe, expect, it } from 'vitest';
import { metadataHash, seriesHash, seriesKey, type CanonicalSeries, type SeriesBatch } from '../remote-write/canonical.js';
import type { MetricMetadata } from '../remote-write/types.js';
import { decodeIndexEvents, encodeSeriesBatch, encodeSeriesBatchReference, hashToKey } from './index-event.js';

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

describe('hand-written IndexEvent encoder', () => {
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
      const fast = encodeSeriesBatch(batch, source);
      const reference = encodeSeriesBatchReference(batch, source);
      expect(fast.length).toBe(reference.length);
      for (let i = 0; i < fast.length; i++) {
        expect(fast[i].key.toString('hex')).toBe(reference[i].key.toString('hex'));
        expect(fast[i].value.toString('hex')).toBe(reference[i].value.toString('hex'));
      }
    }
  });

  it('matches protobufjs for events past 16 KiB (3-byte lengths) and batches past the scratch buffer', () => {
    const big = series([['__name__', 'big'], ['a', 'x'.repeat(20_000)], ['b', 'é'.repeat(9_000)]], 1, 2);
    const small = Array.from({ length: 2000 }, (_, i) => series([['__name__', `m${i}`], ['job', 'j'.repeat(i % 200)]], i, i + 1));
    const batch = batchOf([...small.slice(0, 1000), big, ...small.slice(1000)], [{ metricFamilyName: 'h', type: 'gauge', help: 'ü'.repeat(70_000), unit: 'u' }]);
    const fast = encodeSeriesBatch(batch, 'ingest/kafka_series');
    const reference = encodeSeriesBatchReference(batch, 'ingest/kafka_series');
    expect(Buffer.concat(fast.map((e) => Buffer.concat([e.key, e.value]))).equals(Buffer.concat(reference.map((e) => Buffer.concat([e.key, e.value]))))).toBe(true);
  });

  it('is decoded by the indexer with every field intact', () => {
    const batch = batchOf(
      [series([['__name__', 'up'], ['job', 'node']], 1000, 2000), series([['__name__', 'é€😀'], ['a', 'line\nbreak']], -5, Number.MAX_SAFE_INTEGER)],
      [{ metricFamilyName: 'up', type: 'gauge', help: 'Whether the target is up.', unit: '' }],
    );
    const events = encodeSeriesBatch(batch, 'production/ingest');
    expect(events.map((e) => e.key.toString('hex'))).toEqual([...batch.series.map((s) => hashToKey(s.hash)), hashToKey(metadataHash(batch.metadata[0]))].map((k) => k.toString('hex')));
    const { batch: decoded, corrupt } = decodeIndexEvents(events.map((e) => e.value));
    expect(corrupt).toEqual([]);
    expect(decoded.series).toEqual(batch.series);
    expect(decoded.metadata).toEqual(batch.metadata);
  });

  it('keys and values of one batch share one buffer, and an empty batch encodes to nothing', () => {
    const events = encodeSeriesBatch(batchOf([series([['__name__', 'a']], 1, 1), series([['__name__', 'b']], 1, 1)]), 's');
    expect(events[0].value.buffer).toBe(events[1].value.buffer);
    expect(events[0].key.buffer).toBe(events[0].value.buffer);
    expect(encodeSeriesBatch(batchOf([]), 's')).toEqual([]);
  });
});
