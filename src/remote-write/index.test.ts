import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, PayloadTooLargeError } from '../errors.js';
import { loadCorpus } from '../../test/support/corpus.js';
import { compressSnappy, decodeRemoteWrite, decompressSnappy } from './index.js';
import { decodeWriteRequestV1Reference, decodeWriteRequestV2Reference, encodeWriteRequestV1, encodeWriteRequestV2 } from './reference-codec.test-support.js';
import type { WriteRequest } from './types.js';

const MiB = 1 << 20;

describe('decodeRemoteWrite', () => {
  const corpus = loadCorpus();

  it('decodes real bodies the same with the raw, the fast and the reference decoder', () => {
    const plain = (r: WriteRequest) => ({ version: r.version, timeseries: r.timeseries, metadata: r.metadata });
    for (const { file, body } of corpus.slice(0, 20)) {
      const raw = decodeRemoteWrite(body, { version: '1.0', maxDecodedBytes: 16 * MiB });
      const fast = decodeRemoteWrite(body, { version: '1.0', maxDecodedBytes: 16 * MiB, decoder: 'fast' });
      const reference = decodeWriteRequestV1Reference(decompressSnappy(body, 16 * MiB));
      expect(fast.version).toBe('1.0');
      expect(isDeepStrictEqual(fast, reference), file).toBe(true);
      expect(isDeepStrictEqual(plain(raw), reference), file).toBe(true);
    }
  });

  it('decodes a 2.0 body from a sender', () => {
    const req: WriteRequest = {
      version: '2.0',
      timeseries: [
        {
          labels: [{ name: '__name__', value: 'up' }],
          samples: [{ value: 1, timestamp: 2 }],
          exemplars: [],
          histograms: [],
          metadata: { type: 'gauge', help: '', unit: '' },
          createdTimestamp: 0,
        },
      ],
      metadata: [{ metricFamilyName: 'up', type: 'gauge', help: '', unit: '' }],
    };
    const body = compressSnappy(encodeWriteRequestV2(req));
    expect(decodeRemoteWrite(body, { version: '2.0', maxDecodedBytes: MiB })).toStrictEqual(req);
    expect(decodeWriteRequestV2Reference(decompressSnappy(body, MiB))).toStrictEqual(req);
  });

  it('refuses a body that decompresses past the limit', () => {
    const { body } = corpus[0];
    expect(() => decodeRemoteWrite(body, { version: '1.0', maxDecodedBytes: 1024 })).toThrow(PayloadTooLargeError);
  });

  it('rejects a body that is not snappy, or not protobuf, as invalid input', () => {
    expect(() => decodeRemoteWrite(Buffer.from('{"not":"snappy"}'), { version: '1.0', maxDecodedBytes: MiB })).toThrow(
      InvalidInputError,
    );
    const notProtobuf = compressSnappy(Buffer.from([0x0a, 0xff, 0xff, 0x03]));
    expect(() => decodeRemoteWrite(notProtobuf, { version: '1.0', maxDecodedBytes: MiB, decoder: 'fast' })).toThrow(/^protobuf: /);
    expect(() => decodeWriteRequestV1Reference(decompressSnappy(notProtobuf, MiB))).toThrow(/^protobuf: /);
  });

  it('reads a 1.0 body sent as 2.0 as an empty request (2.0 reserves the 1.0 fields)', () => {
    const v1 = compressSnappy(
      encodeWriteRequestV1({
        version: '1.0',
        timeseries: [{ labels: [{ name: '__name__', value: 'up' }], samples: [], exemplars: [], histograms: [] }],
        metadata: [],
      }),
    );
    expect(decodeRemoteWrite(v1, { version: '2.0', maxDecodedBytes: MiB })).toStrictEqual({
      version: '2.0',
      timeseries: [],
      metadata: [],
    });
  });
});
