import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import { seriesHash } from '../series/series-hash.js';
import { seriesKey } from '../series/series-key.js';
import { syntheticSeriesRange } from '../../bench/lib/synthetic-series.js';
import { decodeIndexEvents, encodeSeriesBatch } from './index-event.js';
import { decodeIndexEventsReference, encodeSeriesBatchReference } from './index-event-reference.test-support.js';

const { h64Raw } = await xxhash();

const series = (labels: Array<[string, string]>, first: number, last: number): CanonicalSeries => {
  const l = labels.map(([name, value]) => ({ name, value }));
  return { labels: l, metricName: l.find((x) => x.name === '__name__')?.value ?? '', key: seriesKey(l), hash: seriesHash(l), firstTimestamp: first, lastTimestamp: last };
};

const batch: SeriesBatch = {
  series: [
    series([['__name__', 'up'], ['job', 'node']], 1000, 2000),
    series([['__name__', 'é€😀'], ['a', 'line\nbreak'], ['quote', '"\\']], 1_700_000_000_123, 1_700_000_000_999),
    series([['no_name', '']], 0, -5), // negative int64: ten-byte varints
    series([['__name__', 'x'], ['long', 'v'.repeat(70_000)]], 2 ** 53 - 1, 2 ** 40), // multi-byte lengths
    // Keys written from bytes must be seriesKey's: quoting, escaping, where __name__ is.
    series([['A', '1'], ['__name__', 'after_a'], ['b', '2']], 1, 2),
    series([['__name__', 'my.metric'], ['a.b', 'c']], 1, 2),
    series([['__name__', 'ok:sum_2'], ['_x9', 'a\\b"c\nd'], ['code', '']], 1, 2),
    series([['__name__', ''], ['job', 'j']], 1, 2),
    series([['__name__', '9lives'], ['job', 'j']], 1, 2),
    series([['__name__', 'm'], ['9x', 'v']], 1, 2),
    series([['__name__', 'm'], ['', 'v']], 1, 2),
    series([['__name__', 'm'], ['__name__', 'twice']], 1, 2),
    series([], 1, 2),
  ],
  metadata: [
    { metricFamilyName: 'up', type: 'gauge', help: 'Whether the target is up.', unit: '' },
    { metricFamilyName: 'é', type: 'counter', help: '', unit: 'seconds' },
  ],
  receivedAt: 1_700_000_001_000,
  counts: { samples: 3, histograms: 0, exemplars: 0 },
};

/** Both decoders on the same messages must agree on everything. */
const expectSame = (values: Array<Uint8Array | null>) => {
  const reference = decodeIndexEventsReference(values);
  const decoded = decodeIndexEvents(values);
  expect(decoded.batch.series).toEqual(reference.batch.series);
  expect(decoded.batch.metadata).toEqual(reference.batch.metadata);
  expect(decoded.corrupt.map((c) => c.index)).toEqual(reference.corrupt.map((c) => c.index));
  // Where no message could be read, both fall back to the clock (Date.now()), a millisecond apart at times.
  if (reference.batch.series.length + reference.batch.metadata.length > 0) {
    expect(decoded.batch.receivedAt).toBe(reference.batch.receivedAt);
  }
  return decoded;
};

describe('hand-written IndexEvents reader, against protobufjs', () => {
  it('reads what either encoder writes, exactly as protobufjs does', () => {
    for (const events of [encodeSeriesBatch(batch, 'production/ingest', 1), encodeSeriesBatchReference(batch, 'production/ingest', 1), encodeSeriesBatch(batch, 'production/ingest', 5)]) {
      const decoded = expectSame(events.map((e) => e.value));
      expect(decoded.corrupt).toEqual([]);
      expect(new Set(decoded.batch.series)).toEqual(new Set(batch.series));
      expect(decoded.batch.series).toHaveLength(batch.series.length);
      expect(new Set(decoded.batch.metadata)).toEqual(new Set(batch.metadata));
    }
    // One event per message, as a batch of one partition and one entry is.
    const single = batch.series.map((s) => encodeSeriesBatch({ ...batch, series: [s], metadata: [] }, 's', 1)[0].value);
    expect(expectSame(single).batch.series).toEqual(batch.series);
  });

  it('agrees on realistic series', () => {
    const many = syntheticSeriesRange(0, 2_000, { salt: 'reader', time: 1_700_000_000_000 });
    const events = encodeSeriesBatch({ series: many, metadata: [], receivedAt: 5, counts: { samples: 0, histograms: 0, exemplars: 0 } }, 'bench', 1);
    expect(expectSame(events.map((e) => e.value)).batch.series).toEqual(many);
  });

  it('skips unknown fields and keeps the last of a repeated singular field', () => {
    const [event] = encodeSeriesBatch({ ...batch, series: batch.series.slice(0, 1), metadata: [] }, 's', 1);
    // Field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, then received_at_ms again.
    const extra = Buffer.from([0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 2, 0xaa, 0xbb, 0x65, 1, 2, 3, 4, 0x20, 0x07]);
    const decoded = expectSame([Buffer.concat([event.value, extra])]);
    expect(decoded.batch.receivedAt).toBe(7);
    expect(decoded.batch.series).toHaveLength(1);
  });

  it('skips an unknown varint field of any length and names where a message is cut off, as protobufjs', () => {
    const [event] = encodeSeriesBatch({ ...batch, series: batch.series.slice(0, 1), metadata: [] }, 's', 1);
    const longVarint = Buffer.concat([event.value, Buffer.from([0x48, ...Array(11).fill(0xff), 0x01])]);
    expect(expectSame([longVarint]).batch.series).toHaveLength(1);
    const cut = Buffer.concat([event.value, Buffer.from([0x48, 0xff])]);
    expect(expectSame([cut]).corrupt).toEqual([{ index: 0, reason: `not a weir.v1.IndexEvents: truncated varint at byte ${event.value.length + 1} (IndexEvents)` }]);
  });

  it('rejects what protobufjs rejects: truncation, garbage, empty, tampered, hashless, invalid UTF-8', () => {
    // One message per entry, so each damage hits one.
    const events = [...batch.series.map((s) => ({ ...batch, series: [s], metadata: [] })), ...batch.metadata.map((m) => ({ ...batch, series: [], metadata: [m] }))].map((b) => encodeSeriesBatch(b, 's', 1)[0].value);
    const tampered = Buffer.from(events[1]);
    tampered[tampered.indexOf(Buffer.from('line'))] = 'L'.charCodeAt(0);
    // A value of invalid UTF-8 sent with the hash of its raw bytes: the text it decodes to does not hash to it.
    const raw = Buffer.from([0x61, 0xff, 0xfe]);
    const hash = Buffer.alloc(8);
    hash.writeBigUInt64BE(h64Raw(Buffer.concat([Buffer.from('a\xff', 'latin1'), raw, Buffer.from([0xff])]), 0n));
    const label = Buffer.concat([Buffer.from([0x0a, 1, 0x61, 0x12, raw.length]), raw]);
    const seriesEvent = Buffer.concat([Buffer.from([0x0a, 8]), hash, Buffer.from([0x12, label.length]), label]);
    const invalidUtf8 = Buffer.concat([Buffer.from([0x0a, seriesEvent.length]), seriesEvent]);
    const values = [
      events[0],
      Buffer.from([0xff, 0xff, 0xff]),
      null,
      tampered,
      events[0].subarray(0, events[0].length - 3),
      Buffer.from([0x22, 0]), // neither series nor metadata
      Buffer.from([0x0a, 0]), // a series without hash
      invalidUtf8,
      Buffer.alloc(0),
    ];
    const decoded = expectSame(values);
    expect(decoded.batch.series.map((s) => s.key)).toEqual([batch.series[0].key]);
    expect(decoded.corrupt.map((c) => c.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decoded.corrupt.find((c) => c.index === 3)?.reason).toMatch(/hash does not match/);
  });

  it('rejects invalid UTF-8 in metadata texts and in the source, as protobufjs does', () => {
    const events = [...batch.series.map((s) => ({ ...batch, series: [s], metadata: [] })), ...batch.metadata.map((m) => ({ ...batch, series: [], metadata: [m] }))].map((b) => Buffer.from(encodeSeriesBatch(b, 's', 1)[0].value));
    const badSource = Buffer.from(events[0]);
    badSource[badSource.indexOf(Buffer.from([0x1a, 0x01, 0x73])) + 2] = 0xff; // source "s" → 0xff
    const metadataEvent = events.find((e) => e.includes(Buffer.from('Whether the target is up.')))!;
    const badHelp = Buffer.from(metadataEvent);
    badHelp[badHelp.indexOf(Buffer.from('Whether'))] = 0xc3; // a lone UTF-8 lead byte
    const goodUnicode = events.find((e) => e.includes(Buffer.from('seconds')))!; // family "é": valid, kept
    const decoded = expectSame([badSource, badHelp, goodUnicode]);
    expect(decoded.corrupt.map((c) => c.index)).toEqual([0, 1]);
    expect(decoded.batch.metadata.map((m) => m.metricFamilyName)).toEqual(['é']);
  });

  it('agrees with protobufjs on randomly damaged messages', () => {
    const many = syntheticSeriesRange(0, 200, { salt: 'damaged', time: 1_700_000_000_000 });
    // Messages of a few series each (damage anywhere in a message), and a few of one series.
    const events = [
      ...encodeSeriesBatch({ series: many, metadata: batch.metadata, receivedAt: 5, counts: { samples: 0, histograms: 0, exemplars: 0 } }, 'bench', 50),
      ...encodeSeriesBatch({ series: many.slice(0, 20), metadata: [], receivedAt: 5, counts: { samples: 0, histograms: 0, exemplars: 0 } }, 'bench', 1, 1),
    ];
    let seed = 1;
    const random = (below: number) => Math.floor(((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000) * below);
    const outcome = (d: ReturnType<typeof decodeIndexEvents>) =>
      JSON.stringify([d.batch.series.map((s) => [s.key, String(s.hash), s.firstTimestamp, s.lastTimestamp]), d.batch.metadata, d.corrupt.length]);
    for (let i = 0; i < 20_000; i++) {
      const value = Buffer.from(events[random(events.length)].value);
      for (let n = 1 + random(2); n > 0; n--) value[random(value.length)] = random(256);
      const reference = decodeIndexEventsReference([value]);
      const decoded = decodeIndexEvents([value]);
      expect(outcome(decoded), value.toString('hex')).toBe(outcome(reference));
    }
  });

  it('keeps the good series of a message and reports each tampered one', () => {
    const [message] = encodeSeriesBatch({ ...batch, series: batch.series.slice(0, 3), metadata: batch.metadata }, 's', 1);
    const tampered = Buffer.from(message.value);
    tampered[tampered.indexOf(Buffer.from('line'))] = 'L'.charCodeAt(0);
    const decoded = expectSame([tampered]);
    expect(decoded.batch.series.map((s) => s.key)).toEqual([batch.series[0].key, batch.series[2].key]);
    expect(decoded.batch.metadata).toEqual(batch.metadata);
    expect(decoded.corrupt).toEqual([{ index: 0, reason: 'series hash does not match its labels' }]);
  });

  it('agrees with protobufjs on deeply nested groups, at every message depth', () => {
    const groups = (n: number) => Buffer.concat([Buffer.alloc(n, 0x4b), Buffer.alloc(n, 0x4c)]); // field 9 start × n, end × n
    const field = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), varint(body.length), body]);
    const varint = (n: number) => {
      const out: number[] = [];
      for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
      out.push(n);
      return Buffer.from(out);
    };
    const labels = [{ name: '__name__', value: 'up' }];
    const hash = Buffer.alloc(8);
    hash.writeBigUInt64BE(seriesHash(labels));
    const label = (extra: Buffer) => field(0x12, Buffer.concat([Buffer.from([0x0a, 8]), Buffer.from('__name__'), Buffer.from([0x12, 2]), Buffer.from('up'), extra]));
    const seriesEvent = (inSeries: Buffer, inLabel: Buffer) => field(0x0a, Buffer.concat([Buffer.from([0x0a, 8]), hash, label(inLabel), inSeries]));
    for (const n of [1, 98, 99, 100, 101, 102]) {
      const none = Buffer.alloc(0);
      const values = [
        Buffer.concat([seriesEvent(none, none), groups(n)]), // in IndexEvents (depth 0)
        seriesEvent(groups(n), none), // in a SeriesEvent (depth 1)
        seriesEvent(none, groups(n)), // in a Label (depth 2)
      ];
      for (const value of values) expectSame([value]);
    }
  });
});
