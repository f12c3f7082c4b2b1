import { describe, expect, it } from 'vitest';
import { lookupHashes, markHashes } from '../dedup/tier.test-support.js';
import { silentLogger } from '../logger.js';
import { memoryDedup } from './memory-dedup.js';

const open = (config: Record<string, unknown> = {}) => memoryDedup.open(memoryDedup.config.parse({ max_series: 1000, ...config }), { name: 'mem', logger: silentLogger(), dataDir: '/tmp' });

describe('memory_dedup tier', () => {
  it('looks up and marks by uint32 halves, one answer per hash in input order', async () => {
    const tier = await open();
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

  it('answers NaN for a hash marked longer ago than ttl', async () => {
    const tier = await open({ ttl: '1m' });
    await tier.markPairs(Uint32Array.of(1, 2), Uint32Array.of(1, 2), 1, Date.now() - 120_000);
    await tier.markPairs(Uint32Array.of(2), Uint32Array.of(2), 1, Date.now());
    const answers = await tier.lookupPairs(Uint32Array.of(1, 2), Uint32Array.of(1, 2), 2);
    expect(Number.isNaN(answers[0])).toBe(true);
    expect(answers[1]).toBeGreaterThan(Date.now() - 2000);
  });
});
