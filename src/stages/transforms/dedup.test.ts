import { firstValueFrom, NEVER, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DedupTier } from '../../dedup/tier.js';
import { silentLogger } from '../../logger.js';
import type { CanonicalSeries, SeriesBatch } from '../../remote-write/canonical.js';
import { memoryDedup } from '../../resources/memory-dedup.js';
import { Delivery } from '../../runtime/delivery.js';
import { Message } from '../../runtime/message.js';
import type { StageContext } from '../../topology/declaration.js';
import { dedup, dedupConfig } from './dedup.js';

const s = (hash: bigint): CanonicalSeries => ({ labels: [{ name: '__name__', value: `m${hash}` }], metricName: `m${hash}`, key: `m${hash}{}`, hash, firstTimestamp: 0, lastTimestamp: 0 });
const batch = (...hashes: bigint[]): SeriesBatch => ({ series: hashes.map(s), metadata: [], receivedAt: 0, counts: { samples: hashes.length, histograms: 0, exemplars: 0 } });

async function tier(name: string): Promise<DedupTier> {
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
    const first = await run(batch(1n, 2n));
    expect(first.passed).toEqual([[1n, 2n]]);
    // Not acknowledged yet: the same series pass again (duplicates, never loss).
    const second = await run(batch(1n, 2n));
    expect(second.passed).toEqual([[1n, 2n]]);
    first.delivery.release();
    await first.delivery.done;
    const third = await run(batch(1n, 2n, 3n));
    expect(third.passed).toEqual([[3n]]);
  });

  it('drops a batch entirely when every series is known', async () => {
    const run = stage({ t1: await tier('t1') });
    const a = await run(batch(7n));
    a.delivery.release();
    await a.delivery.done;
    expect((await run(batch(7n))).passed).toEqual([]);
  });

  it('never marks series of a failed delivery', async () => {
    const run = stage({ t1: await tier('t1') });
    const a = await run(batch(5n));
    a.delivery.fail(new Error('kafka down'));
    await expect(a.delivery.done).rejects.toThrow();
    expect((await run(batch(5n))).passed).toEqual([[5n]]);
  });

  it('sends a series again once refresh_after has passed', async () => {
    const t1 = await tier('t1');
    await t1.mark([9n], Date.now() - 10 * 60_000);
    const run = stage({ t1 }, { refresh_after: '5m' });
    expect((await run(batch(9n))).passed).toEqual([[9n]]);
    const fresh = stage({ t1 }, { refresh_after: '1h' });
    expect((await fresh(batch(9n))).passed).toEqual([]);
  });

  it('teaches earlier tiers what a later tier knows', async () => {
    const t1 = await tier('t1');
    const t2 = await tier('t2');
    await t2.mark([4n], Date.now());
    const run = stage({ t1, t2 });
    expect((await run(batch(4n))).passed).toEqual([]);
    expect((await t1.lookup([4n]))[0]).toBeDefined();
  });

  it('passes everything on when a tier fails (more duplicates, no loss)', async () => {
    const broken: DedupTier = {
      name: 'broken',
      lookup: () => Promise.reject(new Error('connection refused')),
      mark: () => Promise.reject(new Error('connection refused')),
      healthy: () => true,
    };
    const run = stage({ broken });
    const a = await run(batch(1n));
    expect(a.passed).toEqual([[1n]]);
    a.delivery.release();
    await expect(a.delivery.done).resolves.toBeUndefined();
  });

  it('dedups metadata entries as well', async () => {
    const run = stage({ t1: await tier('t1') });
    const meta = { metricFamilyName: 'up', type: 'gauge' as const, help: 'h', unit: '' };
    const withMeta = { ...batch(), metadata: [meta] };
    const a = await run(withMeta);
    expect(a.passed).toEqual([[]]);
    a.delivery.release();
    await a.delivery.done;
    expect((await run(withMeta)).passed).toEqual([]);
  });
});
