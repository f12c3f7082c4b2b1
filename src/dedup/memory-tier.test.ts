import { describe, expect, it } from 'vitest';
import { memoryTier } from './memory-tier.js';
import { lookupHashes, markHashes } from './tier.test-support.js';

describe('memoryTier', () => {
  it('looks up and marks by uint32 halves, one answer per hash in input order', async () => {
    const tier = memoryTier('mem', 1000, 3_600_000);
    const hashes = [0x0123_4567_89ab_cdefn, 0xffff_ffff_0000_0001n, 5n];
    const hi = Uint32Array.from(hashes, (h) => Number(h >> 32n));
    const lo = Uint32Array.from(hashes, (h) => Number(h & 0xffffffffn));
    const now = Math.floor(Date.now() / 1000) * 1000;
    await tier.markPairs(hi, lo, 1, now);
    await markHashes(tier, [hashes[1]], now - 2000);
    expect([...(await tier.lookupPairs(hi, lo, 3))]).toEqual([now, now - 2000, NaN]);
    expect(await lookupHashes(tier, hashes)).toEqual([now, now - 2000, undefined]);
    expect(await tier.lookupPairs(hi, lo, 0)).toEqual(new Float64Array(0));
  });

  it('answers one hash synchronously, undefined once its mark is ttl old', async () => {
    const tier = memoryTier('mem', 1000, 60_000);
    const at = Math.floor(Date.now() / 1000) * 1000;
    await tier.markPairs(Uint32Array.of(7), Uint32Array.of(9), 1, at);
    expect(tier.lookupHalves(7, 9, at + 59_999)).toBe(at);
    expect(tier.lookupHalves(7, 9, at + 60_000)).toBeUndefined();
    expect(tier.lookupHalves(9, 7, at)).toBeUndefined();
  });

  it('forgets everything when closed', async () => {
    const tier = memoryTier('mem', 1000, 60_000);
    await markHashes(tier, [1n, 2n], Date.now());
    await tier.close();
    expect(tier.table.size).toBe(0);
    expect(await lookupHashes(tier, [1n, 2n])).toEqual([undefined, undefined]);
  });
});
