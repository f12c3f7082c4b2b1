import fc from 'fast-check';
import { liftSeriesMetadata, seriesMetadataOf } from './metric-metadata.js';
import type { Histogram, Label, MetricType, TimeSeries, WriteRequest } from './types.js';

/**
 * fast-check arbitraries of remote-write requests as the codecs see them (what a decoder returns),
 * for the decoder and encoder property tests.
 */

/** fast-check may build records without a prototype; decoded requests are plain objects. */
export const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });

// ---- Generated requests ----

/** -0 only survives the wire in double fields; integers normalise it to 0. */
const noNegativeZero = (n: number): number => n + 0;

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('__name__', 'job', 'instance', 'node', 'up', '') },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 90, maxLength: 140 }) },
  { weight: 1, arbitrary: fc.constantFrom('\uFEFFbom', 'ünïcödé', '🦀 crab', 'a\u0000b') },
);
const timestamp = fc
  .oneof(
    fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.constantFrom(0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 62, -(2 ** 63)),
  )
  .map(noNegativeZero);
const uint64 = fc.oneof(fc.nat(), fc.maxSafeNat()).map(noNegativeZero);
const sint64 = fc.oneof(fc.integer(), fc.maxSafeInteger()).map(noNegativeZero);
const int32 = fc.integer().map(noNegativeZero);
const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });
const metricType = fc.constantFrom<MetricType>(
  'unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset',
);
const labels: fc.Arbitrary<Label[]> = fc.array(record({ name: text, value: text }), { maxLength: 6 });
const samples = fc.array(record({ value: fc.double(), timestamp }), { maxLength: 4 });
const exemplars = fc.array(record({ labels, value: fc.double(), timestamp }), { maxLength: 2 });
const spans = fc.array(record({ offset: int32, length: uint32 }), { maxLength: 3 });

const histogram: fc.Arbitrary<Histogram> = fc
  .record({
    countIsFloat: fc.boolean(),
    countFloat: fc.double(),
    countInt: uint64,
    sum: fc.double(),
    schema: int32,
    zeroThreshold: fc.double(),
    zeroCountIsFloat: fc.boolean(),
    zeroCountFloat: fc.double(),
    zeroCountInt: uint64,
    negativeSpans: spans,
    negativeDeltas: fc.array(sint64, { maxLength: 4 }),
    negativeCounts: fc.array(fc.double(), { maxLength: 4 }),
    positiveSpans: spans,
    positiveDeltas: fc.array(sint64, { maxLength: 4 }),
    positiveCounts: fc.array(fc.double(), { maxLength: 4 }),
    resetHint: fc.oneof(fc.integer({ min: 0, max: 3 }), int32),
    timestamp,
    customValues: fc.array(fc.double(), { maxLength: 4 }),
  })
  .map(({ countFloat, countInt, zeroCountFloat, zeroCountInt, ...rest }) => ({
    ...rest,
    count: rest.countIsFloat ? countFloat : countInt,
    zeroCount: rest.zeroCountIsFloat ? zeroCountFloat : zeroCountInt,
  }));

const seriesV1: fc.Arbitrary<TimeSeries> = record({
  labels,
  samples,
  exemplars,
  histograms: fc.array(histogram, { maxLength: 2 }),
});

export const requestV1: fc.Arbitrary<WriteRequest> = record({
  version: fc.constant('1.0' as const),
  timeseries: fc.array(seriesV1, { maxLength: 5 }),
  metadata: fc.array(record({ metricFamilyName: text, type: metricType, help: text, unit: text }), {
    maxLength: 3,
  }),
});

const seriesV2: fc.Arbitrary<TimeSeries> = fc
  .record({
    series: seriesV1,
    metadata: record({ type: metricType, help: text, unit: text }),
    createdTimestamp: timestamp,
  })
  .map(({ series, metadata, createdTimestamp }) => {
    const decoded: TimeSeries = { ...series, createdTimestamp };
    const kept = seriesMetadataOf(metadata.type, metadata.help, metadata.unit);
    if (kept !== undefined) decoded.metadata = kept;
    return decoded;
  });

export const requestV2: fc.Arbitrary<WriteRequest> = fc
  .array(seriesV2, { maxLength: 5 })
  .map((timeseries) => ({ version: '2.0' as const, timeseries, metadata: liftSeriesMetadata(timeseries) }));
