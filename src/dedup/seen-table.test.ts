import { describe, expect, it } from 'vitest';
import { SeenTable } from './seen-table.js';

const hash = (i: number) => (BigInt(i) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;

describe('SeenTable', () => {
  it('remembers what was set, to the second', () => {
    const t = new SeenTable(100);
    const now = Date.now();
    t.set(hash(1), now);
    expect(t.get(hash(1))).toBe(Math.floor(now / 1000) * 1000);
    expect(t.get(hash(2))).toBeUndefined();
  });

  it('sets and gets a hash given as halves the same as the BigInt', () => {
    const t = new SeenTable(100);
    const now = Date.now();
    const h = 0xfedc_ba98_7654_3210n;
    t.setHalves(0xfedc_ba98, 0x7654_3210, now);
    expect(t.get(h)).toBe(Math.floor(now / 1000) * 1000);
    t.set(hash(3), now - 5000);
    expect(t.getHalves(Number(hash(3) >> 32n), Number(hash(3) & 0xffffffffn))).toBe(Math.floor((now - 5000) / 1000) * 1000);
    // Negative numbers (int32 views of the halves) set the same bits.
    t.setHalves(0xffff_ffff | 0, -1, now);
    expect(t.get(0xffff_ffff_ffff_ffffn)).toBe(Math.floor(now / 1000) * 1000);
  });

  it('keeps the later time when set twice', () => {
    const t = new SeenTable(100);
    const now = Date.now();
    t.set(hash(1), now);
    t.set(hash(1), now - 60_000);
    expect(t.get(hash(1))).toBe(Math.floor(now / 1000) * 1000);
    expect(t.size).toBe(1);
  });

  it('tells apart hashes that share a slot or a half', () => {
    const t = new SeenTable(1000);
    const now = Date.now();
    const a = 0x00000001_00000005n;
    const b = 0x00000005_00000001n; // same xor of halves → same start slot
    const c = 0x00000002_00000005n;
    t.set(a, now);
    t.set(b, now - 5000);
    expect(t.get(a)).toBe(Math.floor(now / 1000) * 1000);
    expect(t.get(b)).toBe(Math.floor((now - 5000) / 1000) * 1000);
    expect(t.get(c)).toBeUndefined();
  });

  it('never holds more than its capacity, forgetting the least recently touched first', () => {
    const capacity = 1000;
    const t = new SeenTable(capacity);
    const now = Date.now();
    for (let i = 0; i < 5000; i++) {
      t.set(hash(i), now);
      t.get(hash(0)); // keep series 0 in use
    }
    expect(t.size).toBeLessThanOrEqual(capacity);
    expect(t.get(hash(0))).toBeDefined();
    expect(t.get(hash(4999))).toBeDefined();
    expect(t.get(hash(10))).toBeUndefined();
  });

  it('takes 12 bytes per slot: at most ~26 bytes per series when full, with power-of-two tables', () => {
    const capacity = 1_000_000;
    const t = new SeenTable(capacity);
    const now = Date.now();
    for (let i = 0; i < capacity; i++) t.set(hash(i), now);
    expect(t.bytes / capacity).toBeLessThanOrEqual(26);
    expect(t.get(hash(capacity - 1))).toBeDefined();
  });

  it('grows with what it holds, finding everything across growth', () => {
    const t = new SeenTable(5_000_000);
    expect(t.bytes).toBeLessThanOrEqual(2 * 1024 * 12);
    const now = Date.now();
    for (let i = 0; i < 20_000; i++) t.set(hash(i), now + i * 1000);
    expect(t.bytes).toBeLessThanOrEqual(2 * 65_536 * 12);
    for (let i = 0; i < 20_000; i += 97) expect(t.get(hash(i))).toBe(Math.floor((now + i * 1000) / 1000) * 1000);
    expect(t.get(hash(20_001))).toBeUndefined();
  });
});
