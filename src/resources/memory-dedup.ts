import { z } from 'zod';
import { duration } from '../config/units.js';
import { SeenTable } from '../dedup/seen-table.js';
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
  provides: ['dedup_tier'],
  config: memoryDedupConfig,
  async open(config, ctx): Promise<MemoryDedupTier> {
    const table = new SeenTable(config.max_series);
    return {
      name: ctx.name,
      table,
      lookupHalves(hi, lo, now) {
        const at = table.getHalves(hi, lo);
        return at !== undefined && now - at < config.ttl ? at : undefined;
      },
      async lookupPairs(hi, lo, count) {
        const now = Date.now();
        const answers = new Float64Array(count);
        for (let i = 0; i < count; i++) {
          const at = table.getHalves(hi[i], lo[i]);
          answers[i] = at !== undefined && now - at < config.ttl ? at : NaN;
        }
        return answers;
      },
      async markPairs(hi, lo, count, at) {
        for (let i = 0; i < count; i++) table.setHalves(hi[i], lo[i], at);
      },
      healthy: () => true,
      async close() {
        table.clear();
      },
    };
  },
});
