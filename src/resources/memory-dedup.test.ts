import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { memoryDedup } from './memory-dedup.js';

const open = (config: Record<string, unknown> = {}) => memoryDedup.open(memoryDedup.config.parse({ max_series: 1000, ...config }), { name: 'mem', logger: silentLogger(), dataDir: '/tmp' });

describe('memory_dedup tier', () => {
  it('opens a tier named after the resource that holds max_series', async () => {
    const tier = await open({ max_series: 1234 });
    expect(tier.name).toBe('mem');
    expect(tier.table.capacity).toBe(1234);
    expect(tier.healthy()).toBe(true);
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
