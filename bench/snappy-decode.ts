/**
 * Which snappy block decoder should the hot path use? Decodes every corpus body with weir's
 * decompressSnappy (the native `snappy` package behind a length check), the native package with its
 * default external buffers, a hand-written JS decoder (kept below so the comparison can be re-run)
 * and the pure-JS `snappyjs`, and prints time per body and decoded throughput.
 *
 *   npx tsx bench/snappy-decode.ts [rounds] [decoder name filter]
 */
import { createRequire } from 'node:module';
import { uncompressSync } from 'snappy';
import { decompressSnappy, snappyDecodedLength } from '../src/remote-write/snappy.js';
import { loadCorpus } from '../test/support/corpus.js';

// snappyjs ships no type declarations.
const snappyjs = createRequire(import.meta.url)('snappyjs') as {
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
};

const rounds = Number(process.argv[2] ?? 30);
const bodies = loadCorpus().map((entry) => entry.body);
const decodedBytes = bodies.reduce((sum, body) => sum + decompressSnappy(body, Infinity).length, 0);
const compressedBytes = bodies.reduce((sum, body) => sum + body.length, 0);

const decoders: Record<string, (body: Buffer) => Uint8Array> = {
  'weir (napi behind a length check)': (body) => decompressSnappy(body, 64 << 20),
  'hand-written JS': decompressHandWritten,
  'snappy (napi)': (body) => uncompressSync(body, { asBuffer: true }) as Buffer,
  'snappy (napi, copied)': (body) => uncompressSync(body, { asBuffer: true, copyOutputData: true }) as Buffer,
  snappyjs: (body) => snappyjs.uncompress(body, 64 << 20),
};

/** The hand-written candidate: validates every element, like the native decoder. */
function decompressHandWritten(input: Uint8Array): Uint8Array {
  const length = snappyDecodedLength(input);
  const out = Buffer.allocUnsafe(length);
  let headerBytes = 1;
  while (input[headerBytes - 1] >= 0x80) headerBytes++;
  if (decodeElements(input, headerBytes, out) !== length) throw new Error('snappy: length mismatch');
  return out;
}

const SHORT_COPY = 16;
const corrupt = (reason: string, at: number) => new Error(`snappy: ${reason} at byte ${at}`);

/** Decodes the literal/copy elements of `src` from `start` into `dst`; returns the bytes written. */
function decodeElements(src: Uint8Array, start: number, dst: Uint8Array): number {
  const srcEnd = src.length;
  const dstEnd = dst.length;
  let s = start;
  let d = 0;
  while (s < srcEnd) {
    const tagAt = s;
    const tag = src[s];
    let length: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        // Literal: length-1 in the tag's upper 6 bits, or in 1-4 little-endian bytes after it.
        let lengthMinusOne = tag >>> 2;
        s += 1;
        if (lengthMinusOne >= 60) {
          const extraBytes = lengthMinusOne - 59;
          if (s + extraBytes > srcEnd) throw corrupt('truncated literal length', tagAt);
          lengthMinusOne = 0;
          for (let i = extraBytes - 1; i >= 0; i--) lengthMinusOne = lengthMinusOne * 256 + src[s + i];
          s += extraBytes;
        }
        length = lengthMinusOne + 1;
        if (length > srcEnd - s) throw corrupt(`literal of ${length} bytes runs past the input`, tagAt);
        if (length > dstEnd - d) throw corrupt(`literal of ${length} bytes overflows the decoded length`, tagAt);
        if (length < SHORT_COPY) {
          for (let i = 0; i < length; i++) dst[d + i] = src[s + i];
        } else {
          dst.set(src.subarray(s, s + length), d);
        }
        s += length;
        d += length;
        continue;
      }
      case 1:
        if (s + 2 > srcEnd) throw corrupt('truncated copy element', tagAt);
        length = 4 + ((tag >>> 2) & 7);
        offset = ((tag & 0xe0) << 3) | src[s + 1];
        s += 2;
        break;
      case 2:
        if (s + 3 > srcEnd) throw corrupt('truncated copy element', tagAt);
        length = 1 + (tag >>> 2);
        offset = src[s + 1] | (src[s + 2] << 8);
        s += 3;
        break;
      default:
        if (s + 5 > srcEnd) throw corrupt('truncated copy element', tagAt);
        length = 1 + (tag >>> 2);
        offset = (src[s + 1] | (src[s + 2] << 8) | (src[s + 3] << 16) | (src[s + 4] << 24)) >>> 0;
        s += 5;
        break;
    }
    if (offset === 0 || offset > d) throw corrupt(`copy offset ${offset} outside the ${d} bytes decoded so far`, tagAt);
    if (length > dstEnd - d) throw corrupt(`copy of ${length} bytes overflows the decoded length`, tagAt);
    // A copy may overlap its own output (offset < length repeats a pattern): copy forwards.
    if (length < SHORT_COPY || offset < length) {
      for (let i = 0; i < length; i++) dst[d + i] = dst[d - offset + i];
    } else {
      dst.copyWithin(d, d - offset, d - offset + length);
    }
    d += length;
  }
  return d;
}

console.log(
  `corpus: ${bodies.length} bodies, ${(compressedBytes / 1024).toFixed(0)} KiB compressed, ` +
    `${(decodedBytes / 1024).toFixed(0)} KiB decoded; ${rounds} rounds after warm-up`,
);
// Each decoder's garbage skews the next one's timing, so a decoder can be measured alone: `-- napi`.
const only = process.argv[3];
for (const [name, decode] of Object.entries(decoders)) {
  if (only !== undefined && !name.includes(only)) continue;
  let sink = 0;
  for (let i = 0; i < 5; i++) for (const body of bodies) sink += decode(body).length;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const body of bodies) sink += decode(body).length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perBodyUs = (seconds / (rounds * bodies.length)) * 1e6;
  const mbPerSecond = (decodedBytes * rounds) / seconds / 1e6;
  console.log(`${name.padEnd(34)} ${perBodyUs.toFixed(1).padStart(7)} µs/body  ${mbPerSecond.toFixed(0).padStart(6)} MB/s decoded  (${sink})`);
}
