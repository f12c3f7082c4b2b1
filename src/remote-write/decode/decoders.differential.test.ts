import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../errors.js';
import { loadCorpus } from '../../../test/support/corpus.js';
import { decodeWriteRequestFast } from './fast-v1.js';
import { liftSeriesMetadata, seriesMetadataOf } from '../metric-metadata.js';
import {
  decodeWriteRequestV1Reference,
  decodeWriteRequestV2Reference,
  encodeWriteRequestV1,
  encodeWriteRequestV2,
} from '../reference-codec.test-support.js';
import { decompressSnappy } from '../snappy.js';
import type { Histogram, Label, MetricType, RemoteWriteVersion, TimeSeries, WriteRequest } from '../types.js';

/**
 * The fast decoder must agree with the reference (protobufjs) on every input: the same
 * WriteRequest, or both an InvalidInputError. Checked on the real corpus, on generated requests of
 * both versions, and on corrupted encodings of both.
 */

const decodeReference = (body: Uint8Array, version: RemoteWriteVersion): WriteRequest =>
  version === '1.0' ? decodeWriteRequestV1Reference(body) : decodeWriteRequestV2Reference(body);

const encode = (req: WriteRequest): Uint8Array =>
  req.version === '1.0' ? encodeWriteRequestV1(req) : encodeWriteRequestV2(req);

type Outcome = { decoded: WriteRequest } | { error: unknown };

function outcomeOf(decode: () => WriteRequest): Outcome {
  try {
    return { decoded: decode() };
  } catch (error) {
    return { error };
  }
}

/** Asserts both decoders agree on `body`. (isDeepStrictEqual first: vitest's diffing is slow on big requests.) */
function expectDecodersAgree(body: Uint8Array, version: RemoteWriteVersion, label: string): void {
  const fast = outcomeOf(() => decodeWriteRequestFast(body, version));
  const reference = outcomeOf(() => decodeReference(body, version));
  if ('error' in fast || 'error' in reference) {
    const errors = [fast, reference].map((outcome) => ('error' in outcome ? outcome.error : undefined));
    for (const error of errors) {
      if (error !== undefined && !(error instanceof InvalidInputError)) throw error;
    }
    expect(errors.map((error) => error === undefined ? 'decoded' : 'InvalidInputError'), label).toEqual([
      'InvalidInputError',
      'InvalidInputError',
    ]);
    return;
  }
  if (!isDeepStrictEqual(fast.decoded, reference.decoded)) expect(fast.decoded, label).toStrictEqual(reference.decoded);
}

/** fast-check may build records without a prototype; decoded requests are plain objects. */
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });

// ---- Corruption: the ways a body goes wrong in transit or in a buggy sender ----

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'overwrite'; at: number; byte: number };

function mutate(body: Uint8Array, mutation: Mutation): Uint8Array {
  const at = body.length === 0 ? 0 : mutation.at % body.length;
  const out = Buffer.from(body);
  switch (mutation.kind) {
    case 'flip':
      if (out.length > 0) out[at] ^= 1 << mutation.bit;
      return out;
    case 'overwrite':
      if (out.length > 0) out[at] = mutation.byte;
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'insert':
      return Buffer.concat([out.subarray(0, at), Buffer.from([mutation.byte]), out.subarray(at)]);
    case 'delete':
      return Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
  }
}

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  record({ kind: fc.constant('overwrite' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

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

const requestV1: fc.Arbitrary<WriteRequest> = record({
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

const requestV2: fc.Arbitrary<WriteRequest> = fc
  .array(seriesV2, { maxLength: 5 })
  .map((timeseries) => ({ version: '2.0' as const, timeseries, metadata: liftSeriesMetadata(timeseries) }));

const PROPERTY_RUNS = 300;

describe('fast decoder vs reference decoder', () => {
  const corpus = loadCorpus().map(({ file, body }) => ({ file, body: decompressSnappy(body, 64 << 20) }));
  // The corpus as 2.0: the same series, each carrying its family's metadata.
  const corpusV2 = corpus.map(({ file, body }) => {
    const req = decodeWriteRequestV1Reference(body);
    const metadataOf = new Map(req.metadata.map((entry) => [entry.metricFamilyName, entry]));
    for (const series of req.timeseries) {
      const entry = metadataOf.get(series.labels.find((label) => label.name === '__name__')?.value ?? '');
      if (entry !== undefined) series.metadata = { type: entry.type, help: entry.help, unit: entry.unit };
    }
    return { file, body: encodeWriteRequestV2(req) };
  });

  it('agree on every corpus body, as 1.0 and as 2.0', () => {
    for (const { file, body } of corpus) expectDecodersAgree(body, '1.0', file);
    for (const { file, body } of corpusV2) expectDecodersAgree(body, '2.0', file);
  });

  it('agree on corrupted corpus bodies', () => {
    const bodies = fc.constantFrom(
      ...corpus.slice(0, 40).map((entry) => ({ ...entry, version: '1.0' as const })),
      ...corpusV2.slice(0, 40).map((entry) => ({ ...entry, version: '2.0' as const })),
    );
    fc.assert(
      fc.property(bodies, fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 }), ({ file, body, version }, mutations) => {
        const corrupted = mutations.reduce(mutate, body);
        expectDecodersAgree(corrupted, version, `${file} (${version}) ${JSON.stringify(mutations)}`);
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  for (const [version, requests] of [['1.0', requestV1], ['2.0', requestV2]] as const) {
    it(`both decode generated ${version} requests back to what was encoded`, () => {
      fc.assert(
        fc.property(requests, (req) => {
          const body = encode(req);
          const fast = decodeWriteRequestFast(body, version);
          if (!isDeepStrictEqual(fast, req)) expect(fast).toStrictEqual(req);
          const reference = decodeReference(body, version);
          if (!isDeepStrictEqual(reference, req)) expect(reference).toStrictEqual(req);
        }),
        { numRuns: PROPERTY_RUNS },
      );
    });

    it(`agree on corrupted generated ${version} requests`, () => {
      fc.assert(
        fc.property(requests, fc.array(mutationArbitrary, { minLength: 1, maxLength: 4 }), (req, mutations) => {
          const corrupted = mutations.reduce(mutate, encode(req));
          expectDecodersAgree(corrupted, version, JSON.stringify(mutations));
        }),
        { numRuns: PROPERTY_RUNS * 3 },
      );
    });

    it(`agree on random bytes read as ${version}`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => expectDecodersAgree(bytes, version, 'random')),
        { numRuns: PROPERTY_RUNS },
      );
    });
  }
});
