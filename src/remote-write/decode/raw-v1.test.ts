import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../../test/support/corpus.js';
import { metadataHash, metadataIdentity } from '../../series/metadata-identity.js';
import { decodeWriteRequestFast } from './fast-v1.js';
import { DECODED_METADATA_MAX_ENTRY_BYTES, decodedMetadataCacheSize, hashRun, scanWriteRequestV1 } from './raw-v1.js';
import { encodeWriteRequestV1 } from '../reference-codec.test-support.js';
import { decompressSnappy } from '../snappy.js';
import { countWriteRequest, type TimeSeries, type WriteRequest } from '../types.js';

/**
 * The raw 1.0 path must give exactly what the full decoder gives, series by series, whenever it
 * accepts a body; and whatever it accepts, the full decoder must accept too.
 */

const plain = (r: WriteRequest) => ({ version: r.version, timeseries: r.timeseries, metadata: r.metadata });

function expectSameAsFullDecoder(body: Uint8Array, label: string): boolean {
  const raw = scanWriteRequestV1(body);
  if (raw === undefined) return false;
  const full = decodeWriteRequestFast(body, '1.0'); // throws if the scan accepted what it must not
  const lazily = Array.from({ length: raw.seriesCount }, (_, i) => raw.seriesAt(i));
  if (!isDeepStrictEqual(lazily, full.timeseries)) expect(lazily, label).toStrictEqual(full.timeseries);
  if (!isDeepStrictEqual(plain(raw), full)) expect(plain(raw), label).toStrictEqual(full);
  expect(raw.counts, label).toEqual(countWriteRequest(full));
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  full.timeseries.forEach((ts, i) => {
    expect(raw.labelHashes[i], label).toBe(hashRun(body, view, raw.bounds[3 * i], raw.bounds[3 * i + 1]));
    const stamps = ts.samples.map((s) => s.timestamp);
    expect([raw.times[2 * i], raw.times[2 * i + 1]], label).toEqual(stamps.length ? [Math.min(...stamps), Math.max(...stamps)] : [NaN, NaN]);
  });
  return true;
}

const text = fc.oneof(fc.constantFrom('', '__name__', 'job', 'instance', 'a', 'z', 'le', 'ä', 'x'.repeat(130)), fc.string({ maxLength: 8 }));
const series: fc.Arbitrary<TimeSeries> = fc.record(
  {
    labels: fc.array(fc.record({ name: text, value: text }, { noNullPrototype: true }), { maxLength: 6 }),
    samples: fc.array(
      fc.record(
        {
          value: fc.oneof(fc.constant(0), fc.double({ noNaN: true })),
          timestamp: fc.oneof(fc.constant(0), fc.integer({ min: -1000, max: 1000 }), fc.constant(1_700_000_000_000), fc.maxSafeInteger()),
        },
        { noNullPrototype: true },
      ),
      { maxLength: 3 },
    ),
    exemplars: fc.constant([]),
    histograms: fc.constant([]),
  },
  { noNullPrototype: true },
);
const request: fc.Arbitrary<WriteRequest> = fc.record(
  {
    version: fc.constant('1.0' as const),
    timeseries: fc.array(series, { maxLength: 5 }),
    metadata: fc.array(
      fc.record({ metricFamilyName: text, type: fc.constantFrom('counter' as const, 'gauge' as const), help: text, unit: text }, { noNullPrototype: true }),
      { maxLength: 2 },
    ),
  },
  { noNullPrototype: true },
);

describe('scanWriteRequestV1', () => {
  it('indexes every corpus body and builds the same series as the full decoder', () => {
    for (const { file, body } of loadCorpus()) {
      expect(expectSameAsFullDecoder(decompressSnappy(body, 64 << 20), file), `${file} scanned`).toBe(true);
    }
  });

  it('agrees with the full decoder on generated requests', () => {
    fc.assert(
      fc.property(request, (req) => {
        expectSameAsFullDecoder(encodeWriteRequestV1(req), JSON.stringify(req));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts nothing from corrupted bodies that the full decoder refuses or reads differently', () => {
    fc.assert(
      fc.property(request, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (req, at, byte, truncate) => {
        const body = Buffer.from(encodeWriteRequestV1(req));
        if (body.length === 0) return;
        const i = at % body.length;
        const corrupted = truncate ? body.subarray(0, i) : (body[i] = byte, body);
        expectSameAsFullDecoder(corrupted, `${JSON.stringify(req)} @${i}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses ASCII labels of any other shape than [name] [value]', () => {
    const request = (...label: number[]) => {
      const series = [0x0a, label.length, ...label];
      return new Uint8Array([0x0a, series.length, ...series]);
    };
    const [a, b, c] = [0x61, 0x62, 0x63];
    expect(scanWriteRequestV1(request(0x0a, 1, a, 0x12, 1, b))).toBeDefined();
    expect(scanWriteRequestV1(request(0x0a, 1, a))).toBeDefined();
    expect(scanWriteRequestV1(request(0x0a, 1, a, 0x12, 1, b, 0x1a, 1, c))).toBeUndefined(); // a third field
    expect(scanWriteRequestV1(request(0x12, 1, b, 0x0a, 1, a))).toBeUndefined(); // value first
    expect(scanWriteRequestV1(request(0x0a, 1, a, 0x0a, 1, a))).toBeUndefined(); // name twice
    expect(scanWriteRequestV1(request(0x0a, 3, a))).toBeUndefined(); // name past the label's end
  });

  it('decodes a metadata entry once and gives its identity and hash as for any equal entry', () => {
    const entry = { metricFamilyName: 'memo_test_total', type: 'counter' as const, help: 'Help.', unit: 'seconds' };
    const body = () => encodeWriteRequestV1({ version: '1.0', timeseries: [], metadata: [entry] });
    const first = scanWriteRequestV1(body())!.metadata[0];
    const again = scanWriteRequestV1(body())!.metadata[0];
    expect(again).toBe(first);
    expect(first).toEqual(entry);
    expect(metadataHash(first)).toBe(metadataHash({ ...entry }));
    expect(metadataIdentity(first)).toBe(metadataIdentity({ ...entry }));
  });

  it('keeps no metadata entry over the per-entry limit, and stays within its byte bound', () => {
    const huge = { metricFamilyName: 'huge_help_total', type: 'counter' as const, help: 'h'.repeat(DECODED_METADATA_MAX_ENTRY_BYTES + 1), unit: '' };
    const before = decodedMetadataCacheSize();
    const scanned = scanWriteRequestV1(encodeWriteRequestV1({ version: '1.0', timeseries: [], metadata: [huge] }))!.metadata[0];
    expect(scanned).toEqual(huge);
    expect(decodedMetadataCacheSize()).toEqual(before);
    // Many distinct entries just under the limit: the cache is dropped before it passes 8 MiB.
    const help = 'x'.repeat(DECODED_METADATA_MAX_ENTRY_BYTES - 100);
    for (let i = 0; i < 3000; i++) {
      const entry = { metricFamilyName: `m_${i}`, type: 'gauge' as const, help, unit: '' };
      expect(scanWriteRequestV1(encodeWriteRequestV1({ version: '1.0', timeseries: [], metadata: [entry] }))!.metadata[0]).toEqual(entry);
      expect(decodedMetadataCacheSize().bytes).toBeLessThanOrEqual(8 * 2 ** 20);
    }
  });

  it('leaves exemplars, histograms and non-ASCII labels to the full decoder', () => {
    const base = { version: '1.0' as const, metadata: [] };
    const ts = { labels: [{ name: '__name__', value: 'up' }], samples: [], exemplars: [], histograms: [] };
    expect(scanWriteRequestV1(encodeWriteRequestV1({ ...base, timeseries: [ts] }))).toBeDefined();
    // A length of two varint bytes is not ASCII, but the label is plain: still the raw path.
    expect(scanWriteRequestV1(encodeWriteRequestV1({ ...base, timeseries: [{ ...ts, labels: [{ name: '__name__', value: 'x'.repeat(200) }] }] }))).toBeDefined();
    expect(scanWriteRequestV1(encodeWriteRequestV1({ ...base, timeseries: [{ ...ts, labels: [{ name: '__name__', value: 'ä' }] }] }))).toBeUndefined();
    expect(scanWriteRequestV1(encodeWriteRequestV1({ ...base, timeseries: [{ ...ts, exemplars: [{ labels: [], value: 1, timestamp: 1 }] }] }))).toBeUndefined();
  });
});
