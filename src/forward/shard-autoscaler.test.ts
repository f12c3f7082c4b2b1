import { afterEach, describe, expect, it, vi } from 'vitest';
import { ShardAutoscaler, type ScalableQueues } from './shard-autoscaler.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Queues that only count: the test moves their totals as traffic would. */
function fakeQueues(shards: number) {
  const resharded: number[] = [];
  let finishReshard: (() => void) | undefined;
  const queues: Mutable<ScalableQueues> & { finishReshard(): void } = {
    totals: { samplesIn: 0, samplesOut: 0, sendSeconds: 0 },
    shardCount: shards,
    pendingSamples: 0,
    sendsFailing: false,
    reshard(count: number) {
      resharded.push(count);
      return new Promise<void>((resolve) => {
        finishReshard = () => {
          queues.shardCount = count;
          resolve();
        };
      });
    },
    finishReshard: () => finishReshard?.(),
  };
  return { queues, resharded };
}

/** One 10 s interval of traffic: samples in and out, seconds spent sending. */
function traffic(queues: ScalableQueues, samplesIn: number, samplesOut: number, sendSeconds: number) {
  queues.totals.samplesIn += samplesIn;
  queues.totals.samplesOut += samplesOut;
  queues.totals.sendSeconds += sendSeconds;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('ShardAutoscaler', () => {
  it('grows under load: 20,000/s in, 4 shards busy sending 10,000/s, 50,000 waiting → 9 shards', async () => {
    const { queues, resharded } = fakeQueues(4);
    const changes: Array<[number, number]> = [];
    const scaler = new ShardAutoscaler(queues, { minShards: 1, maxShards: 50, intervalMs: 10_000, onReshard: (from, to) => changes.push([from, to]) });
    traffic(queues, 200_000, 100_000, 40);
    queues.pendingSamples = 50_000;
    scaler.tick();
    expect(resharded).toEqual([9]);
    expect(changes).toEqual([[4, 9]]);
  });

  it('keeps the count under steady load', () => {
    const { queues, resharded } = fakeQueues(4);
    const scaler = new ShardAutoscaler(queues, { minShards: 1, maxShards: 50, intervalMs: 10_000 });
    for (let i = 0; i < 10; i++) {
      traffic(queues, 100_000, 100_000, 40); // 10,000/s at 0.4 ms per sample: 4 shards
      scaler.tick();
    }
    expect(resharded).toEqual([]);
  });

  it('shrinks toward the minimum when idle', async () => {
    const { queues, resharded } = fakeQueues(8);
    const scaler = new ShardAutoscaler(queues, { minShards: 2, maxShards: 50, intervalMs: 10_000 });
    traffic(queues, 200_000, 200_000, 80); // 20,000/s at 0.4 ms per sample: 8 shards
    scaler.tick();
    expect(resharded).toEqual([]);
    // Traffic stops: the in rate decays by 20% a tick (16,000/s → 6.4 shards: within 30%; 12,800/s → 5.12 → 6, …).
    for (let i = 0; i < 30 && queues.shardCount > 2; i++) {
      scaler.tick();
      queues.finishReshard();
      await flush();
    }
    expect(resharded.at(-1)).toBe(2);
    for (let i = 1; i < resharded.length; i++) expect(resharded[i]).toBeLessThan(resharded[i - 1]);
  });

  it('does not grow while sends fail', () => {
    const { queues, resharded } = fakeQueues(4);
    const scaler = new ShardAutoscaler(queues, { minShards: 1, maxShards: 50, intervalMs: 10_000 });
    queues.sendsFailing = true;
    traffic(queues, 200_000, 100_000, 40);
    queues.pendingSamples = 50_000;
    scaler.tick();
    expect(resharded).toEqual([]);
  });

  it('starts no reshard while one is draining, but keeps measuring', async () => {
    const { queues, resharded } = fakeQueues(4);
    const scaler = new ShardAutoscaler(queues, { minShards: 1, maxShards: 50, intervalMs: 10_000 });
    traffic(queues, 200_000, 100_000, 40);
    queues.pendingSamples = 50_000;
    scaler.tick();
    traffic(queues, 400_000, 100_000, 40);
    scaler.tick();
    expect(resharded).toEqual([9]);
    queues.finishReshard();
    await flush();
    traffic(queues, 400_000, 100_000, 40);
    // The interval during the drain counted: in 20,000 → 24,000 → 27,200/s; 0.4 ms × (27,200 + 2,500) = 11.88 → 12.
    scaler.tick();
    expect(resharded).toEqual([9, 12]);
  });

  it('ticks every intervalMs once started, until stopped', () => {
    vi.useFakeTimers();
    const { queues, resharded } = fakeQueues(4);
    const scaler = new ShardAutoscaler(queues, { minShards: 1, maxShards: 50, intervalMs: 10_000 });
    scaler.start();
    traffic(queues, 200_000, 100_000, 40);
    queues.pendingSamples = 50_000;
    vi.advanceTimersByTime(9_999);
    expect(resharded).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(resharded).toEqual([9]);
    scaler.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
