/**
 * Varints on plain byte arrays, for scanners that check a message in place without a WireReader
 * (remote-write's raw index, the raw label hash, the IndexEvents writer's label copy), and for
 * WireWriter. A read answers -1 when the bytes are not a varint of the kind asked for (too long,
 * or cut off by `end`): the scanners then leave the message to the full decoder, which says why.
 */

/** Set by the reads below: the offset just past the varint read (for a length, where its bytes start). */
export let varintEnd = 0;

/** A varint of at most 4 bytes (below 2^28: lengths and tags in practice) at `pos`, or -1. */
export function readLength(bytes: Uint8Array, pos: number, end: number): number {
  let value = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) return -1;
    const byte = bytes[pos++];
    value |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      varintEnd = pos;
      return value;
    }
  }
  return -1;
}

/**
 * A varint of at most 7 bytes (below 2^49, e.g. today's millisecond timestamps), exact in a double
 * and read without 64-bit arithmetic, or -1.
 */
export function readShortVarint(bytes: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7 && pos < end; i++) {
    const byte = bytes[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      varintEnd = pos;
      return value;
    }
    scale *= 128;
  }
  return -1;
}

/** Bytes of the varint of an unsigned 32-bit integer. */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Writes the varint of an unsigned 32-bit integer at `at`; returns where it ends. */
export function writeVarint32(bytes: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    bytes[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  bytes[at++] = n;
  return at;
}
