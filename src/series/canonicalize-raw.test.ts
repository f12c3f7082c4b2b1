import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { firstValueFrom, NEVER, of, toArray } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { syntheticLabels } from '../../bench/lib/synthetic-series.js';
import { loadCorpus } from '../../test/support/corpus.js';
import { silentLogger } from '../logger.js';
import type { SeriesBatch } from './canonical.js';
import { seriesHash } from './series-hash.js';
import { decodeWriteRequestFast } from '../remote-write/decode/fast-v1.js';
import { SeriesCanonicalizer } from './canonicalize.js';
import { HashedSeriesBatch } from './hashed-batch.js';
import { scanWriteRequestV1 } from '../remote-write/decode/raw-v1.js';
import { encodeWriteRequestV1 } from '../remote-write/reference-codec.test-support.js';
import { decompressSnappy } from '../remote-write/snappy.js';
import type { WriteRequest } from '../remote-write/types.js';
import { memoryDedup } from '../resources/memory-dedup.js';
import { Delivery } from '../runtime/delivery.js';
import { Message } from '../runtime/message.js';
import type { StageContext } from '../topology/declaration.js';
import { dedup, dedupConfig } from '../stages/transforms/dedup.js';
import { DEFAULT_SERIES_RULES, type SeriesRules } from './validation.js';

/**
 * The fast path (raw 1.0 request, label-bytes cache, hashed batch) against the plain path
 * (full decoder, canonicalize without cache): the same series, hashes, time ranges and invalid
 * reports, with a cold cache, a warm one, and one small enough to roll over all the time.
 */

const NOW = 1_700_000_000_000;

/** A canonicalizer with a label-bytes cache of this size. */
const withCache = (bytes: number, rules: SeriesRules = DEFAULT_SERIES_RULES) => new SeriesCanonicalizer(rules, { labelCacheBytes: bytes });

/** `canonicalizer` (with its cache) against one of the same rules without a cache. */
function expectSameCanonicalization(body: Uint8Array, canonicalizer: SeriesCanonicalizer, label = '') {
  const raw = scanWriteRequestV1(body);
  if (raw === undefined) return;
  const plain = new SeriesCanonicalizer(canonicalizer.rules).canonicalize(decodeWriteRequestFast(body, '1.0'), NOW);
  const fast = canonicalizer.canonicalize(raw, NOW);
  expect(fast.batch).toBeInstanceOf(HashedSeriesBatch);
  expect(fast.invalid, label).toEqual(plain.invalid);
  const hashed = fast.batch as HashedSeriesBatch;
  for (let i = 0; i < hashed.size; i++) {
    const built = hashed.build([i])[0];
    // Each expect only on a mismatch: hundreds of thousands of passing expects would take most of the test's time.
    if (seriesHash(built.labels) !== built.hash) expect(seriesHash(built.labels), label).toBe(built.hash);
    if (Number(built.hash >> 32n) !== hashed.hashHi[i]) expect(Number(built.hash >> 32n), label).toBe(hashed.hashHi[i]);
    if (Number(built.hash & 0xffffffffn) !== hashed.hashLo[i]) expect(Number(built.hash & 0xffffffffn), label).toBe(hashed.hashLo[i]);
  }
  const summary = (b: SeriesBatch) => ({ series: b.series, metadata: b.metadata, receivedAt: b.receivedAt, counts: b.counts });
  if (!isDeepStrictEqual(summary(fast.batch), summary(plain.batch))) expect(summary(fast.batch), label).toStrictEqual(summary(plain.batch));
}

const name = fc.constantFrom('__name__', 'job', 'instance', 'a', 'b', 'bad-name', '', '0x', 'le');
const value = fc.constantFrom('', 'up', 'x', 'node', 'bad-metric', 'a"b', 'ok_total', 'v'.repeat(200));
const request: fc.Arbitrary<WriteRequest> = fc.record(
  {
    version: fc.constant('1.0' as const),
    timeseries: fc.array(
      fc.record(
        {
          labels: fc.array(fc.record({ name, value }, { noNullPrototype: true }), { maxLength: 5 }),
          samples: fc.array(fc.record({ value: fc.double({ noNaN: true }), timestamp: fc.integer({ min: 0, max: 2 ** 40 }) }, { noNullPrototype: true }), { maxLength: 3 }),
          exemplars: fc.constant([]),
          histograms: fc.constant([]),
        },
        { noNullPrototype: true },
      ),
      { maxLength: 8 },
    ),
    metadata: fc.constant([]),
  },
  { noNullPrototype: true },
);

describe('canonicalize, raw fast path', () => {
  it('canonicalizes every corpus body as the plain path does, with a cold and a warm cache', () => {
    const canonicalizer = withCache(64 << 20);
    const bodies = loadCorpus().map(({ body }) => decompressSnappy(body, 64 << 20));
    for (const round of ['cold', 'warm']) bodies.forEach((body, i) => expectSameCanonicalization(body, canonicalizer, `${round} ${i}`));
  });

  it('agrees with the plain path on generated requests (unsorted, invalid, empty values, repeated series)', () => {
    // A cache belongs to one canonicalizer: what it holds passed its rules.
    const ruleSets: SeriesRules[] = [
      DEFAULT_SERIES_RULES,
      { ...DEFAULT_SERIES_RULES, maxLabelsPerSeries: 3, maxLabelValueLength: 100 },
      { ...DEFAULT_SERIES_RULES, nameValidation: 'utf8', maxLabelNameLength: 4 },
    ];
    const canonicalizers = ruleSets.map((rules) => [withCache(64 << 20, rules), withCache(8192, rules)]);
    fc.assert(
      fc.property(request, fc.nat(ruleSets.length - 1), (req, c) => {
        const body = encodeWriteRequestV1(req);
        for (const canonicalizer of canonicalizers[c]) {
          // Twice: the second time every valid series is a cache hit.
          expectSameCanonicalization(body, canonicalizer, JSON.stringify(req));
          expectSameCanonicalization(body, canonicalizer, JSON.stringify(req));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('canonicalize, raw fast path for new series', () => {
  it('hashes canonical new series from their label bytes without decoding them, as the plain path would', () => {
    const canonicalizer = withCache(64 << 20);
    const body = encodeWriteRequestV1({
      version: '1.0',
      timeseries: Array.from({ length: 50 }, (_, i) => ({
        labels: syntheticLabels(i, 'raw'),
        samples: [{ value: i, timestamp: 1000 + i }],
        exemplars: [],
        histograms: [],
      })),
      metadata: [],
    });
    const raw = scanWriteRequestV1(body)!;
    const seriesAt = vi.spyOn(raw, 'seriesAt');
    const fast = canonicalizer.canonicalize(raw, NOW);
    expect(seriesAt).not.toHaveBeenCalled();
    seriesAt.mockRestore();
    expectSameCanonicalization(body, withCache(64 << 20));
    // What the raw path stored is a cache hit next time, with the same hash.
    const again = canonicalizer.canonicalize(scanWriteRequestV1(body)!, NOW).batch as HashedSeriesBatch;
    const first = fast.batch as HashedSeriesBatch;
    expect([...again.hashHi.subarray(0, again.size)]).toEqual([...first.hashHi.subarray(0, first.size)]);
    expect([...again.hashLo.subarray(0, again.size)]).toEqual([...first.hashLo.subarray(0, first.size)]);
  });

  it('still decodes series that are not canonical as sent, and reports invalid ones as before', () => {
    const body = encodeWriteRequestV1({
      version: '1.0',
      timeseries: [
        { labels: [{ name: 'job', value: 'a' }, { name: '__name__', value: 'up' }], samples: [{ value: 1, timestamp: 5 }], exemplars: [], histograms: [] },
        { labels: [{ name: '__name__', value: 'bad-metric' }], samples: [{ value: 1, timestamp: 5 }], exemplars: [], histograms: [] },
        { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'a' }], samples: [{ value: 1, timestamp: 9 }], exemplars: [], histograms: [] },
      ],
      metadata: [],
    });
    expectSameCanonicalization(body, withCache(64 << 20));
    const fast = withCache(64 << 20).canonicalize(scanWriteRequestV1(body)!, NOW);
    expect(fast.invalid).toEqual([{ where: 'timeseries[1] {"bad-metric"}', reason: 'invalid metric name "bad-metric"' }]);
    expect(fast.batch.series.map((s) => [s.key, s.firstTimestamp, s.lastTimestamp])).toEqual([['up{job="a"}', 5, 9]]);
  });
});

describe('dedup of a hashed batch', () => {
  it('passes on only the series the tier does not know, and marks them only once acknowledged', async () => {
    const tier = await memoryDedup.open(memoryDedup.config.parse({ max_series: 10_000 }), { name: 't1', logger: silentLogger(), dataDir: '/tmp' });
    const ctx: StageContext = { pipeline: 'p', stage: 'dedup', logger: silentLogger(), shutdown: new AbortController().signal, flushRequests: NEVER, resources: { get: <R>() => tier as R } };
    const op = dedup.create(dedupConfig.parse({ tiers: ['t1'] }), ctx);
    const canonicalizer = withCache(1 << 20);
    const body = decompressSnappy(loadCorpus()[0].body, 64 << 20);
    const run = async () => {
      const batch = canonicalizer.canonicalize(scanWriteRequestV1(body)!, Date.now()).batch;
      const delivery = new Delivery();
      delivery.hold();
      const out = await firstValueFrom(of(new Message(batch, delivery)).pipe(op, toArray()));
      return { out: out.map((m) => m.payload as SeriesBatch), delivery };
    };
    const expected = new SeriesCanonicalizer(DEFAULT_SERIES_RULES).canonicalize(decodeWriteRequestFast(body, '1.0'), 0).batch;

    const first = await run();
    expect(first.out).toHaveLength(1);
    // Passed on unbuilt: the Kafka sink encodes the series from their raw label bytes.
    expect(first.out[0]).toBeInstanceOf(HashedSeriesBatch);
    expect(first.out[0].series.map((s) => s.key)).toEqual(expected.series.map((s) => s.key));
    const again = await run(); // not acknowledged yet: nothing is marked
    expect(again.out[0].series).toHaveLength(expected.series.length);

    first.delivery.release();
    await first.delivery.done;
    const known = await run();
    // Only the metadata of the request could still pass; no series.
    expect(known.out.flatMap((b) => b.series)).toEqual([]);
  });
});
