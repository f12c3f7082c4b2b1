import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../logger.js';
import { memoryTier } from './memory-tier.js';
import { TierChain } from './tier-chain.js';
import type { DedupTier } from './tier.js';
import { halvesOf, lookupHashes, markHashes, withoutHalves } from './tier.test-support.js';

const NOW = Math.floor(Date.now() / 1000) * 1000;
const memory = (name: string) => withoutHalves(memoryTier(name, 1000, 3_600_000));

/** `chain.unseen` of these hashes, as an array of 0/1. */
async function unseen(chain: TierChain, hashes: bigint[], startAt = 0, freshAfter = NOW - 60_000): Promise<number[]> {
  const { hi, lo } = halvesOf(hashes);
  return [...(await chain.unseen(hi, lo, hashes.length, startAt, freshAfter))];
}

const failing: DedupTier = {
  name: 'broken',
  lookupPairs: () => Promise.reject(new Error('connection refused')),
  markPairs: () => Promise.reject(new Error('connection refused')),
  healthy: () => true,
};

describe('TierChain.unseen', () => {
  it('asks each tier only about what the tiers before it did not know, and says which hashes none knew', async () => {
    const [t1, t2, t3] = [memory('t1'), memory('t2'), memory('t3')];
    await markHashes(t1, [1n], NOW);
    await markHashes(t2, [2n], NOW);
    const chain = new TierChain([t1, t2, t3], silentLogger());
    expect(await unseen(chain, [1n, 2n, 3n])).toEqual([0, 0, 1]);
    expect([t1.lookups, t2.lookups, t3.lookups]).toEqual([[[1n, 2n, 3n]], [[2n, 3n]], [[3n]]]);
  });

  it('counts a time at or before freshAfter as unseen, and asks the next tier', async () => {
    const [t1, t2] = [memory('t1'), memory('t2')];
    await markHashes(t1, [1n, 2n], NOW - 120_000);
    await markHashes(t2, [2n], NOW);
    const chain = new TierChain([t1, t2], silentLogger());
    expect(await unseen(chain, [1n, 2n], 0, NOW - 120_000)).toEqual([1, 0]);
    expect(t2.lookups).toEqual([[1n, 2n]]);
  });

  it('teaches every tier before the one that knew a hash its time, also tiers before startAt', async () => {
    const [t1, t2, t3] = [memory('t1'), memory('t2'), memory('t3')];
    await markHashes(t3, [5n], NOW - 5000);
    await markHashes(t3, [6n], NOW - 9000);
    const chain = new TierChain([t1, t2, t3], silentLogger());
    expect(await unseen(chain, [5n, 6n, 7n], 1)).toEqual([0, 0, 1]);
    expect(t1.lookups).toEqual([]); // not asked: startAt is 1
    for (const tier of [t1, t2]) {
      expect(await lookupHashes(tier, [5n, 6n, 7n])).toEqual([NOW - 5000, NOW - 9000, undefined]);
      expect(tier.marks).toEqual([[5n], [6n]]); // one call per time
    }
    expect(t3.marks).toEqual([[5n], [6n]]); // only what the test marked
  });

  it('passes over an unhealthy tier without asking, and a failing one with a warning: its hashes count as unseen', async () => {
    const logger = silentLogger();
    const warn = vi.spyOn(logger, 'warn');
    const down = { ...memory('down'), healthy: () => false };
    const lookup = vi.spyOn(down, 'lookupPairs');
    const chain = new TierChain([down, failing], logger);
    expect(await unseen(chain, [1n, 2n])).toEqual([1, 1]);
    expect(lookup).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith({ tier: 'broken', err: 'Error: connection refused' }, 'dedup tier lookup failed; passing series on');
  });
});

describe('TierChain.mark', () => {
  it('marks every tier at the time given, and never rejects when one fails', async () => {
    const logger = silentLogger();
    const warn = vi.spyOn(logger, 'warn');
    const [t1, t2] = [memory('t1'), memory('t2')];
    const chain = new TierChain([t1, failing, t2], logger);
    const { hi, lo } = halvesOf([1n, 2n, 3n]);
    await expect(chain.mark(hi, lo, 2, NOW)).resolves.toBeUndefined();
    for (const tier of [t1, t2]) expect(await lookupHashes(tier, [1n, 2n, 3n])).toEqual([NOW, NOW, undefined]);
    expect(warn).toHaveBeenCalledWith({ tier: 'broken', err: 'Error: connection refused' }, 'dedup tier mark failed');
  });

  it('calls no tier for nothing to mark', async () => {
    const t1 = memory('t1');
    await new TierChain([t1], silentLogger()).mark(new Uint32Array(0), new Uint32Array(0), 0, NOW);
    expect(t1.marks).toEqual([]);
  });
});
