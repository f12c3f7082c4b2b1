import { filter, mergeMap } from 'rxjs';
import { z } from 'zod';
import { duration } from '../../config/units.js';
import { freshBatch, type FreshBatch, type FreshOptions } from '../../dedup/fresh-batch.js';
import { PendingMarks } from '../../dedup/pending-marks.js';
import { TierChain } from '../../dedup/tier-chain.js';
import type { DedupTier } from '../../dedup/tier.js';
import type { SeriesBatch } from '../../series/canonical.js';
import type { Message } from '../../runtime/message.js';
import { defineProcessor } from '../../topology/declaration.js';
import { resourceRef } from '../../topology/resource-ref.js';

export const dedupConfig = z.strictObject({
  tiers: z.array(resourceRef(['dedup_tier'], 'A dedup tier resource (memory_dedup, redis_dedup).')).min(1).describe('Tiers checked in order, cheapest first. A series known to a later tier is copied into the earlier ones.'),
  refresh_after: duration().prefault('30m').describe('A series last dispatched longer ago than this is sent again, so the index\'s last_seen moves on.'),
  metadata: z.boolean().default(true).describe('Dedup metric metadata entries too (senders repeat them every few seconds).'),
  max_pending_marks: z.number().int().min(0).max(100_000).default(64).describe(
    'Batches whose marks (the writes that remember their series as seen, e.g. in Redis) may still be running when the batch is acknowledged: ' +
      'the HTTP answer does not wait for them. Past this many, acknowledgements wait for their marks, so a slow tier slows ingest instead of marks piling up. 0: always wait.',
  ),
});

/**
 * Passes on only series (and metadata) not dispatched within `refresh_after`. The series are
 * marked in every tier only once the batch is acknowledged downstream: a series that fails to
 * reach Kafka or the index is never remembered as seen, so it is sent again next time.
 */
export const dedup = defineProcessor({
  kind: 'transform',
  type: 'dedup',
  summary: 'Drops series already dispatched recently, checking the dedup tiers in order; marks them seen only after the sink acknowledged them.',
  stability: 'stable',
  examples: [
    {
      title: 'Two tiers: in process first, then Redis shared by every ingest instance',
      yaml: `
        - type: dedup
          tiers: [recent_series, shared_series]
          refresh_after: 30m
          runtime:
            concurrency: 32   # batches waiting on Redis at once: a lookup is a round trip, not CPU`,
    },
    {
      title: 'One instance: the in-process tier alone',
      yaml: `
        - type: dedup
          tiers: [recent_series]`,
    },
  ],
  accepts: 'SeriesBatch',
  emits: 'SeriesBatch',
  config: dedupConfig,
  create(config, ctx) {
    const tiers = new TierChain(config.tiers.map((name) => ctx.resources.get<DedupTier>(name, 'dedup_tier')), ctx.logger);
    const marks = new PendingMarks(config.max_pending_marks);
    const options: FreshOptions = { refreshAfter: config.refresh_after, metadata: config.metadata };
    /** The fresh part of the batch goes on; its series are marked once it is acknowledged. */
    const passOn = (msg: Message<SeriesBatch>, fresh: FreshBatch | null, now: number): Message<SeriesBatch> | null => {
      if (fresh === null) return null;
      msg.delivery.onAcked(() => marks.start(() => tiers.mark(fresh.hi, fresh.lo, fresh.count, now)));
      return msg.with(fresh.batch);
    };
    return (source) =>
      source.pipe(
        mergeMap((msg: Message<SeriesBatch>) => {
          const now = Date.now();
          const fresh = freshBatch(msg.payload, tiers, options, now);
          // Synchronous when the in-process tier settles everything: no promise per batch.
          return fresh instanceof Promise ? fresh.then((f) => passOn(msg, f, now)) : [passOn(msg, fresh, now)];
        }),
        filter((m): m is Message<SeriesBatch> => m !== null),
      );
  },
});
