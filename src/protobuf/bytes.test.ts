import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from './bytes.js';

describe('compareBytes', () => {
  it('orders two runs of one buffer as JavaScript orders their ASCII strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) }), fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) }), (a, b) => {
        const buf = Buffer.from(`${a}${b}`, 'latin1');
        const order = Math.sign(compareBytes(buf, 0, a.length, a.length, b.length));
        expect(order).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });

  it('puts a prefix first and compares bytes unsigned', () => {
    const buf = Buffer.from([0x6a, 0x6f, 0x62, 0x6a, 0x6f, 0x62, 0x73, 0xff, 0x01]);
    expect(compareBytes(buf, 0, 3, 3, 4)).toBeLessThan(0); // job < jobs
    expect(compareBytes(buf, 3, 4, 0, 3)).toBeGreaterThan(0);
    expect(compareBytes(buf, 0, 3, 3, 3)).toBe(0);
    expect(compareBytes(buf, 7, 1, 8, 1)).toBeGreaterThan(0); // 0xff after 0x01
  });
});
