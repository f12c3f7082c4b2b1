import { describe, expect, it } from 'vitest';
import { desiredShards, type MeasuredLoad } from './desired-shards.js';

const limits = { minShards: 1, maxShards: 200 };

function load(partial: Partial<MeasuredLoad>): MeasuredLoad {
  return { samplesInPerSecond: 0, samplesOutPerSecond: 0, sendSecondsPerSecond: 0, backlogSamples: 0, sendsFailing: false, ...partial };
}

describe('desiredShards', () => {
  it('steady load: keeps the count that carries it', () => {
    // 4 s of sending per second for 10,000 samples/s: 0.4 ms per sample; 10,000/s × 0.4 ms = 4 shards.
    const steady = load({ samplesInPerSecond: 10_000, samplesOutPerSecond: 10_000, sendSecondsPerSecond: 4 });
    expect(desiredShards(4, steady, limits)).toBe(4);
  });

  it('rising load: grows to carry the input and work off the backlog', () => {
    // 4 saturated shards send 10,000/s at 0.4 ms per sample while 20,000/s come in and 50,000 wait:
    // 0.4 ms × (20,000 + 5% × 50,000) = 0.0004 × 22,500 = 9 shards.
    const rising = load({ samplesInPerSecond: 20_000, samplesOutPerSecond: 10_000, sendSecondsPerSecond: 4, backlogSamples: 50_000 });
    expect(desiredShards(4, rising, limits)).toBe(9);
  });

  it('rounds a fractional need up', () => {
    // 1 ms per sample × 2,100/s = 2.1 → 3 shards (from 1: outside the ±30% band).
    const need = load({ samplesInPerSecond: 2_100, samplesOutPerSecond: 1_000, sendSecondsPerSecond: 1 });
    expect(desiredShards(1, need, limits)).toBe(3);
  });

  it('idle: shrinks to the minimum', () => {
    // Nothing comes in; the out rate is still decaying from earlier traffic.
    const idle = load({ samplesInPerSecond: 0, samplesOutPerSecond: 50, sendSecondsPerSecond: 0.02 });
    expect(desiredShards(8, idle, { minShards: 2, maxShards: 200 })).toBe(2);
  });

  it('idle with nothing ever sent: shrinks to the minimum too', () => {
    expect(desiredShards(8, load({}), { minShards: 2, maxShards: 200 })).toBe(2);
  });

  it('input but nothing finished yet: keeps the count (no cost per sample to go by)', () => {
    const starting = load({ samplesInPerSecond: 5_000, backlogSamples: 5_000 });
    expect(desiredShards(3, starting, limits)).toBe(3);
  });

  it('within ±30% of the current count: keeps it', () => {
    // 1 ms per sample. 12,400/s → 12.4 → 13 ≤ 10 × 1.3: keep 10.
    const up = load({ samplesInPerSecond: 12_400, samplesOutPerSecond: 1_000, sendSecondsPerSecond: 1 });
    expect(desiredShards(10, up, limits)).toBe(10);
    // 7,500/s → 7.5 → 8 ≥ 10 × 0.7: keep 10.
    const down = load({ samplesInPerSecond: 7_500, samplesOutPerSecond: 1_000, sendSecondsPerSecond: 1 });
    expect(desiredShards(10, down, limits)).toBe(10);
    // 13,100/s → 14 > 13: change.
    expect(desiredShards(10, { ...up, samplesInPerSecond: 13_100 }, limits)).toBe(14);
    // 6,000/s → 6 < 7: change.
    expect(desiredShards(10, { ...down, samplesInPerSecond: 6_000 }, limits)).toBe(6);
  });

  it('clamps to maxShards and minShards', () => {
    // 1 ms per sample × 300,000/s = 300 shards wanted.
    const flood = load({ samplesInPerSecond: 300_000, samplesOutPerSecond: 1_000, sendSecondsPerSecond: 1 });
    expect(desiredShards(50, flood, { minShards: 1, maxShards: 200 })).toBe(200);
    // 1 ms per sample × 1,000/s = 1 shard wanted, but at least 5.
    const light = load({ samplesInPerSecond: 1_000, samplesOutPerSecond: 1_000, sendSecondsPerSecond: 1 });
    expect(desiredShards(20, light, { minShards: 5, maxShards: 200 })).toBe(5);
  });

  it('does not grow while sends fail', () => {
    const failing = load({ samplesInPerSecond: 20_000, samplesOutPerSecond: 10_000, sendSecondsPerSecond: 4, backlogSamples: 50_000, sendsFailing: true });
    expect(desiredShards(4, failing, limits)).toBe(4);
    expect(desiredShards(4, { ...failing, sendsFailing: false }, limits)).toBe(9);
  });

  it('does not shrink while more than 10 s of input waits', () => {
    // 1 ms per sample × (1,000 + 5% × 20,000) = 2 shards would do, but 20 s of input is waiting.
    const behind = load({ samplesInPerSecond: 1_000, samplesOutPerSecond: 1_000, sendSecondsPerSecond: 1, backlogSamples: 20_000 });
    expect(desiredShards(10, behind, limits)).toBe(10);
    // 5,000 waiting is 5 s: 1 ms × (1,000 + 250) = 1.25 → 2.
    expect(desiredShards(10, { ...behind, backlogSamples: 5_000 }, limits)).toBe(2);
  });
});
