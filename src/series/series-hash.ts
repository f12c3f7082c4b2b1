import xxhash from 'xxhash-wasm';
import type { Label } from '../remote-write/types.js';

const { h64Raw } = await xxhash();
const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);
const SEPARATOR = 0xff;

/**
 * The series hash: xxHash64 (seed 0) over `name 0xFF value 0xFF` for every label in sorted order,
 * exactly as Prometheus' `labels.Labels.Hash()` computes it, so weir's ids match Prometheus' own.
 * 0xFF never occurs in UTF-8, so the encoding is unambiguous.
 */
export function seriesHash(sortedLabels: readonly Label[]): bigint {
  let length = 0;
  for (const l of sortedLabels) length += (l.name.length + l.value.length) * 3 + 2;
  if (length > scratch.length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
  let at = 0;
  for (const l of sortedLabels) {
    at = writeUtf8(l.name, at);
    scratch[at++] = SEPARATOR;
    at = writeUtf8(l.value, at);
    scratch[at++] = SEPARATOR;
  }
  return h64Raw(scratch.subarray(0, at), 0n);
}

/**
 * `seriesHash` of labels already laid out as `name 0xFF value 0xFF` per label, in sorted order
 * (`pairs[0..length)`): for callers that copy them straight from raw bytes (raw-canonical.ts).
 */
export function seriesHashOfPairs(pairs: Uint8Array, length: number): bigint {
  return h64Raw(pairs.subarray(0, length), 0n);
}

/** Label text is nearly always ASCII: copy it byte by byte, and let TextEncoder do the rest. */
function writeUtf8(text: string, at: number): number {
  const start = at;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return start + encoder.encodeInto(text, scratch.subarray(start)).written;
    scratch[at++] = c;
  }
  return at;
}

// A 64-bit hash as two uint32 halves, for tables that must not allocate a BigInt per lookup.
const halves64 = new BigUint64Array(1);
const halves32 = new Uint32Array(halves64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function hashHigh(hash: bigint): number {
  halves64[0] = hash;
  return halves32[LITTLE_ENDIAN ? 1 : 0];
}

export function hashLow(hash: bigint): number {
  halves64[0] = hash;
  return halves32[LITTLE_ENDIAN ? 0 : 1];
}

export function hashFromHalves(hi: number, lo: number): bigint {
  halves32[LITTLE_ENDIAN ? 1 : 0] = hi;
  halves32[LITTLE_ENDIAN ? 0 : 1] = lo;
  return halves64[0];
}
