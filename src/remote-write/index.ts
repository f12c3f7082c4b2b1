import { decodeWriteRequestFast } from './fast-decoder.js';
import { scanWriteRequestV1 } from './raw-request.js';
import { decodeWriteRequestV1Reference, decodeWriteRequestV2Reference } from './reference-codec.js';
import { decompressSnappy } from './snappy.js';
import type { RemoteWriteVersion, WriteRequest } from './types.js';

/**
 * The remote-write codec: from an HTTP request's body and headers to a WriteRequest.
 */

export { checkContentEncoding, parseRemoteWriteContentType } from './content-negotiation.js';
export { encodeWriteRequestV1, encodeWriteRequestV2 } from './reference-codec.js';
export { compressSnappy, decompressSnappy } from './snappy.js';

export interface DecodeRemoteWriteOptions {
  /** From parseRemoteWriteContentType. */
  version: RemoteWriteVersion;
  /** Largest decompressed body accepted; a larger one is a PayloadTooLargeError before any allocation. */
  maxDecodedBytes: number;
  /**
   * `raw` (the default) indexes a 1.0 body and leaves its series to be built when needed (see
   * raw-request.ts), falling back to `fast` for bodies not in the usual shape and for 2.0; `fast`
   * is the hand-written decoder; `reference` is protobufjs, for comparison.
   */
  decoder?: 'raw' | 'fast' | 'reference';
}

/**
 * Decompresses (snappy block format) and decodes a remote-write body. Throws PayloadTooLargeError
 * when it decompresses to more than `maxDecodedBytes`, InvalidInputError when it is not valid
 * snappy or not a valid message of the given version.
 */
export function decodeRemoteWrite(body: Uint8Array, opts: DecodeRemoteWriteOptions): WriteRequest {
  const decoded = decompressSnappy(body, opts.maxDecodedBytes);
  if (opts.decoder === 'reference') {
    return opts.version === '1.0' ? decodeWriteRequestV1Reference(decoded) : decodeWriteRequestV2Reference(decoded);
  }
  if (opts.decoder !== 'fast' && opts.version === '1.0') {
    const raw = scanWriteRequestV1(decoded);
    if (raw !== undefined) return raw;
  }
  return decodeWriteRequestFast(decoded, opts.version);
}
