import { firstValueFrom, NEVER, of, toArray } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { hashedBatch, hashOf, seriesBatch } from '../../dedup/batches.test-support.js';
import type { DedupTier } from '../../dedup/tier.js';
import { lookupHashes, markHashes, withoutHalves } from '../../dedup/tier.test-support.js';
import { silentLogger } from '../../logger.js';
import type { SeriesBatch } from '../../series/canonical.js';
import type { MetricMetadata } from '../../remote-write/types.js';
import { memoryDedup, type MemoryDedupTier } from '../../resources/memory-dedup.js';
import { Delivery } from '../../runtime/delivery.js';
import { Message } from '../../runtime/message.js';
import type { StageContext } from '../../topology/declaration.js';
import { dedup, dedupConfig } from './dedup.js';

async function tier(name: string): Promise<MemoryDedupTier> {
  return memoryDedup.open(memoryDedup.config.parse({ max_series: 1000 }), { name, logger: silentLogger(), dataDir: '/tmp' });
}

function stage(tiers: Record<string, DedupTier>, config: Record<string, unknown> = {}) {
  const ctx: StageContext = {
    pipeline: 'p',
    stage: 'dedup',
    logger: silentLogger(),
    shutdown: new AbortController().signal,
    flushRequests: NEVER,
    resources: { get: <R>(name: string) => tiers[name] as R },
  };
  const op = dedup.create(dedupConfig.parse({ tiers: Object.keys(tiers), ...config }), ctx);
  /** Run one batch through; returns what passed and its delivery (not yet acknowledged). */
  return async (payload: SeriesBatch) => {
    const delivery = new Delivery();
    delivery.hold();
    const out = await firstValueFrom(of(new Message(payload, delivery)).pipe(op, toArray()));
    return { passed: out.map((m) => (m.payload as SeriesBatch).series.map((x) => x.hash)), delivery };
  };
}

describe('dedup stage', () => {
  it('passes new series and remembers them only once the batch is acknowledged', async () => {
    const run = stage({ t1: await tier('t1') });
    const first = await run(seriesBatch(1n, 2n));
    expect(first.passed).toEqual([[1n, 2n]]);
    // Not acknowledged yet: the same series pass again (duplicates, never loss).
    const second = await run(seriesBatch(1n, 2n));
    expect(second.passed).toEqual([[1n, 2n]]);
    first.delivery.release();
    await first.delivery.done;
    const third = await run(seriesBatch(1n, 2n, 3n));
    expect(third.passed).toEqual([[3n]]);
  });

  it('acknowledges without waiting for marks while at most max_pending_marks batches are being marked', async () => {
    // A tier whose marks hang until let go, as a slow Redis would.
    const hanging: Array<() => void> = [];
    const slow: DedupTier = {
      name: 'slow',
      lookupPairs: async (_hi, _lo, count) => new Float64Array(count).fill(NaN),
      markPairs: () => new Promise<void>((resolve) => hanging.push(resolve)),
      healthy: () => true,
    };
    const acked = (d: Delivery) => {
      let done = false;
      void d.done.then(() => (done = true));
      return () => done;
    };
    const settle = () => new Promise((r) => setImmediate(r));
    const run = stage({ slow }, { max_pending_marks: 1 });
    const a = await run(seriesBatch(1n));
    const b = await run(seriesBatch(2n));
    const aAcked = acked(a.delivery);
    const bAcked = acked(b.delivery);
    a.delivery.release();
    b.delivery.release();
    await settle();
    // a's mark runs on its own; b's would be the second at once, so b waits for it.
    expect([aAcked(), bAcked(), hanging.length]).toEqual([true, false, 2]);
    hanging[1]();
    await settle();
    expect(bAcked()).toBe(true);

    // 0: every acknowledgement waits for its marks (as before the limit existed).
    const waiting = stage({ slow }, { max_pending_marks: 0 });
    const c = await waiting(seriesBatch(3n));
    const cAcked = acked(c.delivery);
    c.delivery.release();
    await settle();
    expect(cAcked()).toBe(false);
    hanging[2]();
    await settle();
    expect(cAcked()).toBe(true);
  });

  it('drops a batch entirely when every series is known', async () => {
    const run = stage({ t1: await tier('t1') });
    const a = await run(seriesBatch(7n));
    a.delivery.release();
    await a.delivery.done;
    expect((await run(seriesBatch(7n))).passed).toEqual([]);
  });

  it('never marks series of a failed delivery', async () => {
    const run = stage({ t1: await tier('t1') });
    const a = await run(seriesBatch(5n));
    a.delivery.fail(new Error('kafka down'));
    await expect(a.delivery.done).rejects.toThrow();
    expect((await run(seriesBatch(5n))).passed).toEqual([[5n]]);
  });

  it('sends a series again once refresh_after has passed', async () => {
    const t1 = await tier('t1');
    await markHashes(t1, [9n], Date.now() - 10 * 60_000);
    const run = stage({ t1 }, { refresh_after: '5m' });
    expect((await run(seriesBatch(9n))).passed).toEqual([[9n]]);
    const fresh = stage({ t1 }, { refresh_after: '1h' });
    expect((await fresh(seriesBatch(9n))).passed).toEqual([]);
  });

  it('teaches earlier tiers what a later tier knows', async () => {
    const t1 = await tier('t1');
    const t2 = await tier('t2');
    await markHashes(t2, [4n], Date.now());
    const run = stage({ t1, t2 });
    expect((await run(seriesBatch(4n))).passed).toEqual([]);
    expect((await lookupHashes(t1, [4n]))[0]).toBeDefined();
  });

  it('passes everything on when a tier fails (more duplicates, no loss)', async () => {
    const broken: DedupTier = {
      name: 'broken',
      lookupPairs: () => Promise.reject(new Error('connection refused')),
      markPairs: () => Promise.reject(new Error('connection refused')),
      healthy: () => true,
    };
    const run = stage({ broken });
    const a = await run(seriesBatch(1n));
    expect(a.passed).toEqual([[1n]]);
    a.delivery.release();
    await expect(a.delivery.done).resolves.toBeUndefined();
  });

  it('dedups metadata entries as well', async () => {
    const run = stage({ t1: await tier('t1') });
    const meta = { metricFamilyName: 'up', type: 'gauge' as const, help: 'h', unit: '' };
    const withMeta = { ...seriesBatch(), metadata: [meta] };
    const a = await run(withMeta);
    expect(a.passed).toEqual([[]]);
    a.delivery.release();
    await a.delivery.done;
    expect((await run(withMeta)).passed).toEqual([]);
  });
});

describe('dedup stage, hashed batches (raw 1.0 requests)', () => {
  it('asks later tiers by uint32 halves, passes the unknown series unbuilt, and marks every tier by halves once acknowledged', async () => {
    const t1 = await tier('t1');
    const t2 = await tier('t2');
    const lookupPairs = vi.spyOn(t2, 'lookupPairs');
    const markPairs = vi.spyOn(t2, 'markPairs');
    const run = stage({ t1, t2 });
    const first = await run(hashedBatch([1, 2, 3]));
    expect(first.passed).toEqual([[hashOf(1), hashOf(2), hashOf(3)]]);
    expect(lookupPairs).toHaveBeenCalledTimes(1);
    expect(lookupPairs.mock.calls[0][2]).toBe(3);
    // Not acknowledged: nothing marked, so they pass again.
    expect((await run(hashedBatch([1, 2, 3]))).passed).toEqual([[hashOf(1), hashOf(2), hashOf(3)]]);
    expect(markPairs).not.toHaveBeenCalled();
    first.delivery.release();
    await first.delivery.done;
    expect(markPairs).toHaveBeenCalledTimes(1);
    expect((await lookupHashes(t1, [hashOf(1), hashOf(2), hashOf(3)])).every((at) => at !== undefined)).toBe(true);
    expect((await lookupHashes(t2, [hashOf(1), hashOf(2), hashOf(3)])).every((at) => at !== undefined)).toBe(true);
    expect((await run(hashedBatch([1, 2, 3, 4]))).passed).toEqual([[hashOf(4)]]);
  });

  it('backfills the first tier with what a later tier knows, keeping its time', async () => {
    const t1 = await tier('t1');
    const t2 = await tier('t2');
    const earlier = Date.now() - 60_000;
    await markHashes(t2, [hashOf(5)], earlier);
    await markHashes(t2, [hashOf(6)], earlier - 60_000);
    const run = stage({ t1, t2 });
    const a = await run(hashedBatch([5, 6, 7]));
    expect(a.passed).toEqual([[hashOf(7)]]);
    expect(await lookupHashes(t1, [hashOf(5), hashOf(6), hashOf(7)])).toEqual([Math.floor(earlier / 1000) * 1000, Math.floor((earlier - 60_000) / 1000) * 1000, undefined]);
    // The first tier now answers by itself: the second is not asked about them again.
    const lookupPairs = vi.spyOn(t2, 'lookupPairs');
    expect((await run(hashedBatch([5, 6]))).passed).toEqual([]);
    expect(lookupPairs).not.toHaveBeenCalled();
  });

  it('asks a later tier without lookupHalves by pairs, with the same outcome', async () => {
    const t1 = await tier('t1');
    const inner = await tier('t2');
    await markHashes(inner, [hashOf(2)], Date.now());
    const t2 = withoutHalves(inner);
    const run = stage({ t1, t2 });
    const a = await run(hashedBatch([1, 2, 3, 1]));
    // The same series twice in a request is one entry.
    expect(a.passed).toEqual([[hashOf(1), hashOf(3)]]);
    expect(t2.lookups).toEqual([[hashOf(1), hashOf(2), hashOf(3), hashOf(1)]]);
    a.delivery.release();
    await a.delivery.done;
    expect(t2.marks).toEqual([[hashOf(1), hashOf(3)]]);
    expect((await lookupHashes(t1, [hashOf(1), hashOf(2), hashOf(3)])).every((at) => at !== undefined)).toBe(true);

    // A first tier without lookupHalves: no synchronous check, every series goes to the tiers by pairs.
    const only = withoutHalves(await tier('t3'));
    const run3 = stage({ only });
    const b = await run3(hashedBatch([8, 9]));
    expect(b.passed).toEqual([[hashOf(8), hashOf(9)]]);
    b.delivery.release();
    await b.delivery.done;
    expect(only.marks).toEqual([[hashOf(8), hashOf(9)]]);
    expect((await run3(hashedBatch([8, 9]))).passed).toEqual([]);
  });

  it('passes everything on when a later tier fails (duplicates, no loss), and still acknowledges', async () => {
    const t1 = await tier('t1');
    const broken: DedupTier = {
      name: 'broken',
      lookupPairs: () => Promise.reject(new Error('connection refused')),
      markPairs: () => Promise.reject(new Error('connection refused')),
      healthy: () => true,
    };
    const run = stage({ t1, broken });
    const a = await run(hashedBatch([1, 2]));
    expect(a.passed).toEqual([[hashOf(1), hashOf(2)]]);
    a.delivery.release();
    await expect(a.delivery.done).resolves.toBeUndefined();
    // The healthy tier was still marked.
    expect((await run(hashedBatch([1, 2]))).passed).toEqual([]);
  });

  it('never marks the series of a failed delivery', async () => {
    const t1 = await tier('t1');
    const t2 = await tier('t2');
    const run = stage({ t1, t2 });
    const a = await run(hashedBatch([1]));
    a.delivery.fail(new Error('kafka down'));
    await expect(a.delivery.done).rejects.toThrow();
    expect((await run(hashedBatch([1]))).passed).toEqual([[hashOf(1)]]);
    expect(await lookupHashes(t2, [hashOf(1)])).toEqual([undefined]);
  });

  it('dedups metadata entries of a hashed batch through the later tiers too', async () => {
    const t1 = await tier('t1');
    const t2 = await tier('t2');
    const meta: MetricMetadata = { metricFamilyName: 'm1', type: 'gauge', help: 'h', unit: '' };
    const a = await stage({ t1, t2 })(hashedBatch([1], [meta]));
    a.delivery.release();
    await a.delivery.done;
    // A new first tier: t2 answers for both the series and the metadata entry.
    const run = stage({ t1: await tier('t1b'), t2 });
    expect((await run(hashedBatch([1], [meta]))).passed).toEqual([]);
  });
});
