import { z } from 'zod';
import { duration } from '../config/units.js';
import { memoryTier } from '../dedup/memory-tier.js';
import type { SeenTable } from '../dedup/seen-table.js';
import type { DedupTier } from '../dedup/tier.js';
import { defineResource, type Resource } from '../topology/declaration.js';

export const memoryDedupConfig = z.strictObject({
  max_series: z.number().int().min(1).max(500_000_000).default(2_000_000).describe('Series remembered at most; memory is reserved up front (12 bytes per slot, 13 to 25 bytes per series depending on how the capacity rounds to table sizes). When full, the series touched least recently are forgotten, half the table at a time.'),
  ttl: duration().prefault('1h').describe('A series not dispatched for this long counts as new again.'),
});

export interface MemoryDedupTier extends DedupTier, Resource {
  readonly table: SeenTable;
}

export const memoryDedup = defineResource({
  kind: 'resource',
  type: 'memory_dedup',
  summary: 'In-process dedup tier: a bounded table of recently dispatched series hashes with a TTL.',
  stability: 'stable',
  examples: [
    {
      title: 'The first tier of a dedup step: 2 million series, each remembered for an hour',
      yaml: `
        recent_series:
          type: memory_dedup
          max_series: 2000000
          ttl: 1h`,
    },
  ],
  provides: ['dedup_tier'],
  config: memoryDedupConfig,
  async open(config, ctx): Promise<MemoryDedupTier> {
    return memoryTier(ctx.name, config.max_series, config.ttl);
  },
});
