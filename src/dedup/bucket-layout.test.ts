import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommands } from '../clients/redis/resp.test-support.js';
import { BucketLayout } from './bucket-layout.js';

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
/** Layouts of 4, 11, 17, 23 and 24 bits: field widths 8, 7, 6, 6 and 5 bytes. */
const expectedSeries = fc.constantFrom(10, 100_000, 5_000_000, 500_000_000, 5_000_000_000);

describe('BucketLayout', () => {
  it('sizes buckets from the expected series: 32 to 64 series each, within 4..24 bits', () => {
    expect(new BucketLayout('p', 1_000_000)).toMatchObject({ bits: 14, fieldBytes: 7 });
    expect(new BucketLayout('p', 5_000_000)).toMatchObject({ bits: 17, fieldBytes: 6 });
    expect(new BucketLayout('p', 10)).toMatchObject({ bits: 4, fieldBytes: 8 });
    expect(new BucketLayout('p', 500_000_000)).toMatchObject({ bits: 23, fieldBytes: 6 });
    expect(new BucketLayout('p', 5_000_000_000)).toMatchObject({ bits: 24, fieldBytes: 5 });
    for (const n of [3_000, 70_000, 1_000_000, 5_000_000, 500_000_000]) {
      const perBucket = n / new BucketLayout('p', n).buckets;
      expect(perBucket).toBeGreaterThan(32);
      expect(perBucket).toBeLessThanOrEqual(64);
    }
  });

  it('names a bucket by prefix, width and number', () => {
    const layout = new BucketLayout('weir:seen', 1_000_000);
    // Top 14 bits 0x0123 >> 2 = 0x48; the field is the low 7 bytes (the bits the bucket also has do no harm).
    expect(layout.locate(0x0123_4567_89ab_cdefn)).toEqual({ key: 'weir:seen:14:48', field: Buffer.from('23456789abcdef', 'hex') });
    expect(layout.locate(1n).key).toBe('weir:seen:14:0');
    expect(layout.key(0x3fff)).toBe('weir:seen:14:3fff');
  });

  it('keeps all 64 bits between key and field, so distinct hashes never share an entry', () => {
    fc.assert(
      fc.property(u64, expectedSeries, (hash, expected) => {
        const layout = new BucketLayout('p', expected);
        const { key, field } = layout.locate(hash);
        const bucket = BigInt(parseInt(key.split(':')[2], 16));
        const low = BigInt('0x' + field.toString('hex'));
        const lowBits = BigInt(64 - layout.bits);
        expect(field.length).toBe(layout.fieldBytes);
        expect((bucket << lowBits) | (low & ((1n << lowBits) - 1n))).toBe(hash);
      }),
    );
  });

  it('groups hashes by bucket, ascending, each group in input order, and says where each came from', () => {
    const layout = new BucketLayout('p', 100); // 4 bits: the top hex digit is the bucket
    const hashes = [0x1000_0000_0000_0001n, 0x2000_0000_0000_0002n, 0x1000_0000_0000_0003n, -1n];
    const grouped = layout.group(hashes);
    expect(grouped.groups).toBe(3);
    expect([...grouped.buckets]).toEqual([1, 2, 0xf]); // -1n counts as its 64-bit pattern: all ones
    expect([...grouped.sizes]).toEqual([2, 1, 1]);
    expect([...grouped.order]).toEqual([0, 2, 1, 3]);
    expect(grouped.fields).toEqual(
      Buffer.concat([layout.locate(hashes[0]).field, layout.locate(hashes[2]).field, layout.locate(hashes[1]).field, Buffer.alloc(8, 0xff)]),
    );
  });

  it('reads negative BigInts as their 64-bit pattern', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -(2n ** 63n), max: -1n }), { maxLength: 50 }), expectedSeries, (hashes, expected) => {
        const layout = new BucketLayout('p', expected);
        expect(layout.group(hashes)).toEqual(layout.group(hashes.map((h) => BigInt.asUintN(64, h))));
      }),
    );
  });

  it('keeps a bucket with thousands of hashes in one group', () => {
    const layout = new BucketLayout('p', 100);
    const hashes = Array.from({ length: 5000 }, (_, i) => BigInt(i)); // all in bucket 0
    const grouped = layout.group(hashes);
    expect(grouped.groups).toBe(1);
    expect([...grouped.sizes]).toEqual([5000]);
    expect([...grouped.order]).toEqual(hashes.map((_, i) => i));
    const [command] = decodeCommands(layout.lookupCommands(grouped));
    expect(command).toHaveLength(2 + 5000);
    expect(command.slice(0, 2)).toEqual(args('HMGET', 'p:4:0'));
  });

  it('puts buckets given in reverse in ascending order, and order points back at the input', () => {
    const layout = new BucketLayout('p', 1_000_000); // 14 bits
    const spread = Array.from({ length: 2500 }, (_, i) => BigInt(2499 - i) << 50n);
    const { groups, buckets, order } = layout.group(spread);
    expect(groups).toBe(2500);
    expect([...buckets]).toEqual(spread.map((_, i) => i));
    expect([...order]).toEqual(spread.map((_, i) => 2499 - i));
  });

  it('groups like a plain sort by (bucket, position), for small batches and for large ones', () => {
    // Batch size and bucket width decide how the grouping sorts (keys of 32 bits or wider): compare
    // with the obvious way across both, with many hashes sharing a bucket and buckets at the top.
    const hiWord = fc.oneof(fc.constantFrom(0, 0x0000_00ff, 0x8000_0000, 0xffff_ff00, 0xffff_ffff), fc.nat({ max: 0xffff_ffff }));
    const hash = fc.tuple(hiWord, fc.nat({ max: 0xffff_ffff })).map(([hi, lo]) => (BigInt(hi) << 32n) | BigInt(lo));
    const check = (layout: BucketLayout, hashes: bigint[]) => {
      const bucketOf = (h: bigint) => Number(h >> BigInt(64 - layout.bits));
      const order = hashes.map((_, i) => i).sort((a, b) => bucketOf(hashes[a]) - bucketOf(hashes[b]) || a - b);
      const buckets = [...new Set(order.map((i) => bucketOf(hashes[i])))];
      const grouped = layout.group(hashes);
      expect([...grouped.order]).toEqual(order);
      expect([...grouped.buckets]).toEqual(buckets);
      const counts = new Map<number, number>();
      for (const h of hashes) counts.set(bucketOf(h), (counts.get(bucketOf(h)) ?? 0) + 1);
      expect([...grouped.sizes]).toEqual(buckets.map((b) => counts.get(b)));
      expect(grouped.fields).toEqual(Buffer.concat(order.map((i) => layout.locate(hashes[i]).field)));
    };
    fc.assert(fc.property(fc.array(hash, { maxLength: 700 }), expectedSeries, (hashes, expected) => check(new BucketLayout('p', expected), hashes)));
    // Sizes around the switch: 2^8, 2^9 and 2^15 positions next to buckets of 4, 17, 23 and 24 bits.
    const many = fc.sample(hash, { numRuns: 20_000, seed: 42 });
    for (const expected of [10, 5_000_000, 500_000_000, 5_000_000_000]) {
      for (const n of [256, 257, 512, 513, 20_000]) check(new BucketLayout('p', expected), many.slice(0, n));
    }
  });

  it('groups hashes given as uint32 halves exactly as the same hashes given as BigInts', () => {
    fc.assert(
      fc.property(fc.array(u64, { maxLength: 300 }), expectedSeries, (hashes, expected) => {
        const layout = new BucketLayout('p', expected);
        // Longer arrays than `n`: only the first n count.
        const hi = Uint32Array.from([...hashes.map((h) => Number(h >> 32n)), 7]);
        const lo = Uint32Array.from([...hashes.map((h) => Number(h & 0xffffffffn)), 7]);
        expect(layout.groupPairs(hi, lo, hashes.length)).toEqual(layout.group(hashes));
      }),
    );
  });
});

describe('BucketLayout commands', () => {
  const layout = new BucketLayout('p', 100);
  const hashes = [0x1000_0000_0000_0001n, 0x2000_0000_0000_0002n, 0x1000_0000_0000_0003n, -1n];
  const [f0, f1, f2] = hashes.map((h) => layout.locate(h).field);
  const fAll = Buffer.alloc(8, 0xff);

  it('looks a single field up with HGET and several with HMGET', () => {
    expect(decodeCommands(layout.lookupCommands(layout.group(hashes)))).toEqual([
      args('HMGET', 'p:4:1', f0, f2),
      args('HGET', 'p:4:2', f1),
      args('HGET', 'p:4:f', fAll),
    ]);
  });

  it('marks with HSET per group, and PEXPIRE NX + PEXPIRETIME only for the groups given a lifetime', () => {
    const commands = decodeCommands(layout.markCommands(layout.group(hashes), 1_800_000_000, Float64Array.of(3_600_000, 0, 5_400_000)));
    expect(commands).toEqual([
      args('HSET', 'p:4:1', f0, '1800000000', f2, '1800000000'),
      args('PEXPIRE', 'p:4:1', '3600000', 'NX'),
      args('PEXPIRETIME', 'p:4:1'),
      args('HSET', 'p:4:2', f1, '1800000000'),
      args('HSET', 'p:4:f', fAll, '1800000000'),
      args('PEXPIRE', 'p:4:f', '5400000', 'NX'),
      args('PEXPIRETIME', 'p:4:f'),
    ]);
  });

  it('writes nothing for no hashes', () => {
    const empty = layout.group([]);
    expect(layout.lookupCommands(empty)).toHaveLength(0);
    expect(layout.markCommands(empty, 1, new Float64Array(0))).toHaveLength(0);
  });

  it('writes each key as layout.key() spells it: 1 to 6 hex digits, and a prefix of multi-byte UTF-8 characters', () => {
    // The encoder writes bucket digits and the key's length itself: the length must count bytes, not characters.
    for (const prefix of ['p', 'wéir:見:🙂']) {
      const wide = new BucketLayout(prefix, 5_000_000_000); // 24 bits: buckets up to 0xffffff
      const buckets = [0x0, 0x9, 0xf, 0x10, 0xab, 0xfff, 0x1000, 0xabcd, 0xfffff, 0x100000, 0xabcdef, 0xffffff];
      const grouped = wide.group(buckets.map((b) => BigInt(b) << 40n));
      const keys = buckets.map((b) => Buffer.from(wide.key(b), 'utf8'));
      expect(decodeCommands(wide.lookupCommands(grouped)).map((c) => c[1])).toEqual(keys);
      const marked = decodeCommands(wide.markCommands(grouped, 1, new Float64Array(buckets.length).fill(1000)));
      expect(marked.map((c) => c[1])).toEqual(keys.flatMap((k) => [k, k, k]));
    }
    expect(new BucketLayout('wéir:見:🙂', 5_000_000_000).key(0xabcdef)).toBe('wéir:見:🙂:24:abcdef');
  });

  it('asks for every hash exactly once, under the key and field locate() gives, in `order`', () => {
    fc.assert(
      fc.property(fc.array(u64, { maxLength: 300 }), expectedSeries, fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }), (hashes, expected, prefix) => {
        const layout = new BucketLayout(prefix, expected);
        const grouped = layout.group(hashes);
        const commands = decodeCommands(layout.lookupCommands(grouped));
        expect(commands).toHaveLength(grouped.groups);
        const asked = commands.flatMap((c, g) => {
          // HGET for a single field, HMGET for more: the reply's shape depends on it.
          expect(c[0].toString()).toBe(grouped.sizes[g] === 1 ? 'HGET' : 'HMGET');
          return c.slice(2).map((field) => ({ key: c[1].toString('utf8'), field }));
        });
        expect(asked).toHaveLength(hashes.length);
        asked.forEach((entry, p) => expect(entry).toEqual(layout.locate(hashes[grouped.order[p]])));
      }),
    );
  });

  it('marks every hash exactly once, under the key and field locate() gives, with the time and the lifetimes asked for', () => {
    fc.assert(
      fc.property(
        fc.array(u64, { maxLength: 300 }),
        expectedSeries,
        fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.infiniteStream(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 40 }))),
        (hashes, expected, prefix, seconds, lifetimeStream) => {
          const layout = new BucketLayout(prefix, expected);
          const grouped = layout.group(hashes);
          const lifetimes = Float64Array.from(lifetimeStream.take(grouped.groups));
          const commands = decodeCommands(layout.markCommands(grouped, seconds, lifetimes));
          const marked: Array<{ key: string; field: Buffer }> = [];
          let c = 0;
          for (let g = 0; g < grouped.groups; g++) {
            const [name, key, ...pairs] = commands[c++];
            expect(name.toString()).toBe('HSET');
            expect(pairs).toHaveLength(2 * grouped.sizes[g]);
            for (let j = 0; j < pairs.length; j += 2) {
              marked.push({ key: key.toString('utf8'), field: pairs[j] });
              expect(pairs[j + 1].toString()).toBe(String(seconds));
            }
            if (lifetimes[g] > 0) {
              expect(commands[c++]).toEqual(args('PEXPIRE', key, String(lifetimes[g]), 'NX'));
              expect(commands[c++]).toEqual(args('PEXPIRETIME', key));
            }
          }
          expect(c).toBe(commands.length);
          expect(marked).toHaveLength(hashes.length);
          marked.forEach((entry, p) => expect(entry).toEqual(layout.locate(hashes[grouped.order[p]])));
        },
      ),
    );
  });
});

/** A command as the bytes of its arguments (strings as UTF-8). */
function args(...parts: Array<string | Buffer>): Buffer[] {
  return parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
}

