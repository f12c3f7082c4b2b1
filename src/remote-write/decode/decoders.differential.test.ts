import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../errors.js';
import { loadCorpus } from '../../../test/support/corpus.js';
import { decodeWriteRequestFast } from './fast-v1.js';
import { record, requestV1, requestV2 } from '../arbitraries.test-support.js';
import {
  decodeWriteRequestV1Reference,
  decodeWriteRequestV2Reference,
  encodeWriteRequestV1,
  encodeWriteRequestV2,
} from '../reference-codec.test-support.js';
import { decompressSnappy } from '../snappy.js';
import type { RemoteWriteVersion, WriteRequest } from '../types.js';

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
