import { decodeWriteRequestFast } from './decode/fast-v1.js';
import { scanWriteRequestV1 } from './decode/raw-v1.js';
import { decompressSnappy } from './snappy.js';
import type { RemoteWriteVersion, WriteRequest } from './types.js';

/**
 * The remote-write codec: from an HTTP request's body and headers to a WriteRequest, and from a
 * WriteRequest to an uncompressed 1.0 or 2.0 protobuf message (compress it with compressSnappy).
 */

export { checkContentEncoding, parseRemoteWriteContentType } from './content-negotiation.js';
export { compressSnappy, decompressSnappy } from './snappy.js';
export { encodeWriteRequestV1 } from './encode/v1.js';
export { encodeWriteRequestV2 } from './encode/v2.js';

export interface DecodeRemoteWriteOptions {
  /** From parseRemoteWriteContentType. */
  version: RemoteWriteVersion;
  /** Largest decompressed body accepted; a larger one is a PayloadTooLargeError before any allocation. */
  maxDecodedBytes: number;
  /**
   * `raw` (the default) indexes a 1.0 body and leaves its series to be built when needed (see
   * decode/raw-v1.ts), falling back to `fast` for bodies not in the usual shape and for 2.0; `fast`
   * is the hand-written decoder (the protobufjs reference codec is test support only).
   */
  decoder?: 'raw' | 'fast';
}

/**
 * Decompresses (snappy block format) and decodes a remote-write body. Throws PayloadTooLargeError
 * when it decompresses to more than `maxDecodedBytes`, InvalidInputError when it is not valid
 * snappy or not a valid message of the given version.
 */
export function decodeRemoteWrite(body: Uint8Array, opts: DecodeRemoteWriteOptions): WriteRequest {
  const decoded = decompressSnappy(body, opts.maxDecodedBytes);
  if (opts.decoder !== 'fast' && opts.version === '1.0') {
    const raw = scanWriteRequestV1(decoded);
    if (raw !== undefined) return raw;
  }
  return decodeWriteRequestFast(decoded, opts.version);
}
