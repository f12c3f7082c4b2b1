import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, PayloadTooLargeError } from '../errors.js';
import { loadCorpus } from '../../test/support/corpus.js';
import { compressSnappy, decompressSnappy, snappyDecodedLength } from './snappy.js';

const MiB = 1 << 20;

/** A snappy block header claiming `length` decoded bytes, followed by `rest`. */
function withHeader(length: number, rest: number[] = []): Uint8Array {
  const header: number[] = [];
  let remaining = length;
  while (remaining >= 0x80) {
    header.push((remaining % 0x80) | 0x80);
    remaining = Math.floor(remaining / 0x80);
  }
  header.push(remaining);
  return Uint8Array.from([...header, ...rest]);
}

describe('snappy', () => {
  it('round-trips empty, small, repetitive and random inputs', () => {
    const inputs = [
      new Uint8Array(0),
      Buffer.from('a'),
      Buffer.from('remote_write '.repeat(1000)),
      randomBytes(100_000),
    ];
    for (const input of inputs) {
      const compressed = compressSnappy(input);
      expect(snappyDecodedLength(compressed)).toBe(input.length);
      // Buffer#equals: vitest's deep equality walks big buffers byte by byte, very slowly.
      expect(decompressSnappy(compressed, MiB).equals(input)).toBe(true);
    }
  });

  it('decodes every corpus body, each a few times its compressed size', () => {
    for (const { file, body } of loadCorpus()) {
      const decoded = decompressSnappy(body, 16 * MiB);
      expect(decoded.length, file).toBe(snappyDecodedLength(body));
      expect(decoded.length, file).toBeGreaterThan(body.length);
      expect(decompressSnappy(compressSnappy(decoded), 16 * MiB).equals(decoded), file).toBe(true);
    }
  });

  it('refuses a body claiming more than the limit before decoding it', () => {
    // 4 GiB - 1 claimed, with nothing behind the header: only the header may be looked at.
    const huge = withHeader(0xffff_ffff);
    expect(() => decompressSnappy(huge, 64 * MiB)).toThrow(PayloadTooLargeError);
    expect(() => decompressSnappy(huge, 64 * MiB)).toThrow(/4294967295 bytes, more than the limit of 67108864/);
  });

  it('accepts a body of exactly the limit and refuses one byte more', () => {
    const body = compressSnappy(Buffer.alloc(1000, 7));
    expect(decompressSnappy(body, 1000).length).toBe(1000);
    expect(() => decompressSnappy(body, 999)).toThrow(PayloadTooLargeError);
  });

  it('rejects malformed length headers as invalid input', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(0), /snappy: empty body/],
      [Uint8Array.from([0x80, 0x80]), /snappy: truncated length header/],
      [Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), /snappy: length header longer than 5 bytes/],
      [Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x1f]), /snappy: length header exceeds 2\^32-1/],
    ];
    for (const [body, message] of cases) {
      expect(() => decompressSnappy(body, MiB)).toThrow(InvalidInputError);
      expect(() => decompressSnappy(body, MiB)).toThrow(message);
    }
  });

  it('rejects truncated and corrupt blocks as invalid input', () => {
    const valid = compressSnappy(Buffer.from('remote-write corpus body '.repeat(200)));
    const corrupt = [
      valid.subarray(0, valid.length - 1),
      valid.subarray(0, valid.length >> 1),
      withHeader(10, [0x00, 0x41]), // one literal byte where 10 are claimed
      withHeader(1, [0x04, 0x41, 0x42]), // a 2-byte literal overflows the claimed length
      withHeader(8, [0x01, 0x04]), // a copy from before the start of the output
      withHeader(0, [0x00]), // data after an empty block
    ];
    for (const body of corrupt) {
      expect(() => decompressSnappy(body, MiB)).toThrow(InvalidInputError);
      expect(() => decompressSnappy(body, MiB)).toThrow(/^snappy: /);
    }
  });

  it('never crashes on random garbage: decodes it or throws InvalidInputError', () => {
    for (let i = 0; i < 500; i++) {
      const garbage = randomBytes(1 + (i % 64));
      try {
        decompressSnappy(garbage, 4096);
      } catch (err) {
        if (!(err instanceof InvalidInputError) && !(err instanceof PayloadTooLargeError)) throw err;
      }
    }
  });
});
