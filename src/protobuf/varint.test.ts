import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readLength, readShortVarint, varintEnd, varintSize, writeVarint32 } from './varint.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('varints on plain bytes', () => {
  it('reads lengths of 1 to 4 bytes and says where they end', () => {
    expect(readLength(bytes(0x05, 0xaa), 0, 2)).toBe(5);
    expect(varintEnd).toBe(1);
    expect(readLength(bytes(0xaa, 0x96, 0x01), 1, 3)).toBe(150);
    expect(varintEnd).toBe(3);
    expect(readLength(bytes(0xff, 0xff, 0xff, 0x7f), 0, 4)).toBe(2 ** 28 - 1);
    expect(varintEnd).toBe(4);
  });

  it('answers -1 for a length of 5 bytes or one cut off by the end', () => {
    expect(readLength(bytes(0x80, 0x80, 0x80, 0x80, 0x01), 0, 5)).toBe(-1);
    expect(readLength(bytes(0x96, 0x01), 0, 1)).toBe(-1);
    expect(readLength(bytes(), 0, 0)).toBe(-1);
  });

  it('reads varints of up to 7 bytes exactly, and answers -1 for longer ones', () => {
    const timestamp = 1_700_000_000_123; // 6 bytes
    const encoded = Uint8Array.from([0xee, ...varintBytes(timestamp)]);
    expect(readShortVarint(encoded, 1, encoded.length)).toBe(timestamp);
    expect(varintEnd).toBe(encoded.length);
    expect(readShortVarint(Uint8Array.from(varintBytes(2 ** 49 - 1)), 0, 7)).toBe(2 ** 49 - 1);
    expect(readShortVarint(Uint8Array.from(varintBytes(2 ** 49)), 0, 8)).toBe(-1);
    expect(readShortVarint(Uint8Array.from(varintBytes(-1)), 0, 10)).toBe(-1); // negative: 10 bytes
    expect(readShortVarint(bytes(0x80, 0x80), 0, 2)).toBe(-1);
  });

  it('writes what it reads back, in the bytes varintSize counts', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 28 - 1 }), fc.nat({ max: 3 }), (n, at) => {
        const out = new Uint8Array(at + 5);
        const end = writeVarint32(out, at, n);
        expect(end - at).toBe(varintSize(n));
        expect(Array.from(out.subarray(at, end))).toEqual(varintBytes(n));
        expect(readLength(out, at, end)).toBe(n);
        expect(varintEnd).toBe(end);
      }),
    );
    for (const [n, size] of [[0, 1], [0x7f, 1], [0x80, 2], [0x3fff, 2], [0x4000, 3], [0x1fffff, 3], [0x200000, 4], [0xfffffff, 4], [0x10000000, 5], [0xffffffff, 5]]) {
      expect(varintSize(n)).toBe(size);
      expect(writeVarint32(new Uint8Array(5), 0, n)).toBe(size);
    }
  });
});

/** The reference: a 64-bit two's complement varint, 7 bits at a time. */
function varintBytes(value: number): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  for (; rest >= 0x80n; rest >>= 7n) out.push(Number(rest & 0x7fn) | 0x80);
  out.push(Number(rest));
  return out;
}
