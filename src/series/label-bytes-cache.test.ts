import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabelBytesCache } from './label-bytes-cache.js';
import { hashRun } from '../remote-write/decode/raw-v1.js';

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const hash = (b: Uint8Array, start = 0, end = b.length) => hashRun(b, view(b), start, end);

describe('LabelBytesCache', () => {
  it('finds exactly the byte runs it stored, with their hash halves', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 50 }), fc.uint8Array({ maxLength: 40 }), (stored, probe) => {
        const cache = new LabelBytesCache(1 << 20);
        stored.forEach((bytes, i) => cache.store(hash(bytes), bytes, view(bytes), 0, bytes.length, i, 0xffffffff - i));
        // Look the runs up inside a bigger buffer, at an offset, as canonicalize does.
        for (const bytes of [...stored, probe]) {
          const padded = new Uint8Array(bytes.length + 3);
          padded.set(bytes, 3);
          const at = stored.findIndex((s) => Buffer.compare(Buffer.from(s), Buffer.from(bytes)) === 0);
          expect(cache.lookup(hash(padded, 3), padded, view(padded), 3, padded.length)).toBe(at >= 0);
          if (at >= 0) expect([cache.hi, cache.lo]).toEqual([at, 0xffffffff - at]);
        }
      }),
    );
  });

  it('stays bounded, forgets the least recently used generation and keeps what is still looked up', () => {
    const cache = new LabelBytesCache(8192); // two generations of 4 KiB
    const run = (i: number) => new TextEncoder().encode(`series-${i}-${'x'.repeat(50)}`);
    const hot = run(-1);
    cache.store(hash(hot), hot, view(hot), 0, hot.length, 7, 7);
    for (let i = 0; i < 1000; i++) {
      const bytes = run(i);
      cache.store(hash(bytes), bytes, view(bytes), 0, bytes.length, i, i);
      expect(cache.lookup(hash(hot), hot, view(hot), 0, hot.length)).toBe(true);
    }
    const early = run(0);
    expect(cache.lookup(hash(early), early, view(early), 0, early.length)).toBe(false);
    const late = run(999);
    expect(cache.lookup(hash(late), late, view(late), 0, late.length)).toBe(true);
    expect(cache.hi).toBe(999);
  });

  it('finds everything it stored across the growth of its slot table', () => {
    const cache = new LabelBytesCache(8 << 20);
    const run = (i: number) => new TextEncoder().encode(`{job="node",instance="host-${i}:9100",le="${i % 13}"}`);
    for (let i = 0; i < 5000; i++) {
      const bytes = run(i);
      cache.store(hash(bytes), bytes, view(bytes), 0, bytes.length, i, ~i >>> 0);
    }
    for (let i = 0; i < 5000; i++) {
      const bytes = run(i);
      expect(cache.lookup(hash(bytes), bytes, view(bytes), 0, bytes.length)).toBe(true);
      expect([cache.hi, cache.lo]).toEqual([i, ~i >>> 0]);
    }
    const absent = run(5001);
    expect(cache.lookup(hash(absent), absent, view(absent), 0, absent.length)).toBe(false);
  });
});

describe('LabelBytesCache, lookups and stores interleaved', () => {
  it('answers only what was stored, with its own halves, and finds what was just stored, through rollovers', () => {
    const runs = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`{job="j${i}",${'x'.repeat(i * 7)}}`));
    const op = fc.record({ store: fc.boolean(), lookupFirst: fc.boolean(), run: fc.nat(runs.length - 1), offset: fc.nat(3) }, { noNullPrototype: true });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const cache = new LabelBytesCache(8192);
        const stored = new Set<number>();
        for (const { store, lookupFirst, run, offset } of ops) {
          // The run inside a bigger buffer, a new one each time (as each request is).
          const bytes = new Uint8Array(runs[run].length + offset);
          bytes.set(runs[run], offset);
          const h = hash(bytes, offset);
          if (lookupFirst && cache.lookup(h, bytes, view(bytes), offset, bytes.length)) {
            expect(stored.has(run)).toBe(true);
            expect([cache.hi, cache.lo]).toEqual([run, ~run >>> 0]);
          }
          if (store) {
            cache.store(h, bytes, view(bytes), offset, bytes.length, run, ~run >>> 0);
            stored.add(run);
            expect(cache.lookup(h, bytes, view(bytes), offset, bytes.length)).toBe(true);
            expect([cache.hi, cache.lo]).toEqual([run, ~run >>> 0]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
