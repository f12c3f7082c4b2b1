import { filter, mergeMap } from 'rxjs';
import { z } from 'zod';
import { duration } from '../../config/units.js';
import type { DedupTier } from '../../dedup/tier.js';
import type { Logger } from '../../logger.js';
import { hashFromHalves, hashHigh, hashLow, metadataHash, type SeriesBatch } from '../../remote-write/canonical.js';
import { isHashedSeriesBatch, type HashedSeriesBatch } from '../../remote-write/hashed-batch.js';
import type { Message } from '../../runtime/message.js';
import { defineProcessor } from '../../topology/declaration.js';
import { resourceRef } from '../../topology/resource-ref.js';

export const dedupConfig = z.strictObject({
  tiers: z.array(resourceRef(['dedup_tier'], 'A dedup tier resource (memory_dedup, redis_dedup).')).min(1).describe('Tiers checked in order, cheapest first. A series known to a later tier is copied into the earlier ones.'),
  refresh_after: duration().prefault('30m').describe('A series last dispatched longer ago than this is sent again, so the index\'s last_seen moves on.'),
  metadata: z.boolean().default(true).describe('Dedup metric metadata entries too (senders repeat them every few seconds).'),
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
  accepts: 'SeriesBatch',
  emits: 'SeriesBatch',
  config: dedupConfig,
  create(config, ctx) {
    const tiers = config.tiers.map((name) => ctx.resources.get<DedupTier>(name, 'dedup_tier'));
    return (source) =>
      source.pipe(
        mergeMap((msg: Message<SeriesBatch>) => {
          if (!isHashedSeriesBatch(msg.payload)) return dedupBatch(msg, tiers, config, ctx.logger);
          const result = dedupHashedBatch(msg as Message<HashedSeriesBatch>, tiers, config, ctx.logger);
          // Synchronous when the in-process tier settles everything: no promise per batch.
          return result instanceof Promise ? result : [result];
        }),
        filter((m): m is Message<SeriesBatch> => m !== null),
      );
  },
});

type DedupConfig = z.output<typeof dedupConfig>;

async function dedupBatch(msg: Message<SeriesBatch>, tiers: DedupTier[], config: DedupConfig, logger: Logger): Promise<Message<SeriesBatch> | null> {
  const batch = msg.payload;
  const now = Date.now();
  const seriesHashes = batch.series.map((s) => s.hash);
  const metaHashes = config.metadata ? batch.metadata.map(metadataHash) : [];
  const fresh = await unseen([...seriesHashes, ...metaHashes], tiers, 0, now - config.refresh_after, logger);
  const series = batch.series.filter((s) => fresh.has(s.hash));
  const freshMeta = config.metadata ? metaHashes.filter((h) => fresh.has(h)) : [];
  const metadata = config.metadata ? batch.metadata.filter((_, i) => fresh.has(metaHashes[i])) : batch.metadata;
  if (series.length === 0 && metadata.length === 0) return null;

  const dispatched = [...series.map((s) => s.hash), ...freshMeta];
  msg.delivery.onAcked(() => markEverywhere(tiers, dispatched, now, logger));
  return msg.with({ ...batch, series, metadata });
}

/**
 * A batch from canonicalize's fast path: the series are checked by hash in the in-process tier
 * first, synchronously, and only those it does not know go on to the other tiers and are built.
 * In the steady state that is none, and nothing is allocated per series.
 */
function dedupHashedBatch(msg: Message<HashedSeriesBatch>, tiers: DedupTier[], config: DedupConfig, logger: Logger): Message<SeriesBatch> | null | Promise<Message<SeriesBatch> | null> {
  const batch = msg.payload;
  const now = Date.now();
  const freshAfter = now - config.refresh_after;
  const first = tiers[0];
  const firstChecked = first.lookupHalves !== undefined && first.healthy();
  const known = (hi: number, lo: number) => {
    const at = first.lookupHalves!(hi, lo, now);
    return at !== undefined && at > freshAfter;
  };
  const candidates: number[] = [];
  for (let i = 0; i < batch.size; i++) {
    if (!firstChecked || !known(batch.hashHi[i], batch.hashLo[i])) candidates.push(i);
  }
  const metaHashes: bigint[] = [];
  const metaIndexes: number[] = [];
  if (config.metadata) {
    batch.metadata.forEach((m, i) => {
      const hash = metadataHash(m);
      if (!firstChecked || !known(hashHigh(hash), hashLow(hash))) {
        metaHashes.push(hash);
        metaIndexes.push(i);
      }
    });
  }
  const pass = (fresh: Set<bigint> | undefined): Message<SeriesBatch> | null => {
    const seriesCandidates = fresh === undefined ? candidates : candidates.filter((c) => fresh.has(hashOf(batch, c)));
    const freshMeta = metaHashes.filter((h) => fresh === undefined || fresh.has(h));
    const metadata = config.metadata ? metaIndexes.filter((_, j) => fresh === undefined || fresh.has(metaHashes[j])).map((i) => batch.metadata[i]) : batch.metadata;
    if (seriesCandidates.length === 0 && metadata.length === 0) return null;
    const fresh$ = batch.subset(seriesCandidates, metadata);
    const dispatched: bigint[] = [];
    for (let c = 0; c < fresh$.size; c++) dispatched.push(hashOf(fresh$, c));
    dispatched.push(...freshMeta);
    msg.delivery.onAcked(() => markEverywhere(tiers, dispatched, now, logger));
    return msg.with<SeriesBatch>(fresh$);
  };
  const rest = firstChecked ? 1 : 0;
  if (candidates.length === 0 && metaHashes.length === 0) return pass(undefined);
  if (rest >= tiers.length) return pass(undefined);
  const pending = [...candidates.map((c) => hashOf(batch, c)), ...metaHashes];
  return unseen(pending, tiers, rest, freshAfter, logger).then(pass);
}

function hashOf(batch: HashedSeriesBatch, candidate: number): bigint {
  return hashFromHalves(batch.hashHi[candidate], batch.hashLo[candidate]);
}

/**
 * The hashes no tier from `startAt` on has seen since `freshAfter`; tiers that know a hash teach
 * the tiers before them (all of them, also those before `startAt`).
 */
async function unseen(hashes: bigint[], tiers: DedupTier[], startAt: number, freshAfter: number, logger: Logger): Promise<Set<bigint>> {
  let pending = hashes;
  const backfill: Array<{ upTo: number; hashes: bigint[]; at: number[] }> = [];
  for (let t = startAt; t < tiers.length && pending.length > 0; t++) {
    const tier = tiers[t];
    if (!tier.healthy()) continue;
    let answers: Array<number | undefined>;
    try {
      answers = await tier.lookup(pending);
    } catch (err) {
      // A tier that fails only costs duplicates, never loss: treat everything as unknown.
      logger.warn({ tier: tier.name, err: String(err) }, 'dedup tier lookup failed; passing series on');
      continue;
    }
    const next: bigint[] = [];
    const known: bigint[] = [];
    const knownAt: number[] = [];
    answers.forEach((at, i) => {
      if (at !== undefined && at > freshAfter) {
        known.push(pending[i]);
        knownAt.push(at);
      } else next.push(pending[i]);
    });
    if (t > 0 && known.length > 0) backfill.push({ upTo: t, hashes: known, at: knownAt });
    pending = next;
  }
  for (const b of backfill) {
    for (let t = 0; t < b.upTo; t++) {
      await markEach(tiers[t], b.hashes, b.at, logger);
    }
  }
  return new Set(pending);
}

async function markEverywhere(tiers: DedupTier[], hashes: bigint[], at: number, logger: Logger): Promise<void> {
  if (hashes.length === 0) return;
  await Promise.all(
    tiers.map((tier) =>
      tier.mark(hashes, at).catch((err: unknown) => {
        // The data is already delivered; failing to remember it only means a duplicate later.
        logger.warn({ tier: tier.name, err: String(err) }, 'dedup tier mark failed');
      }),
    ),
  );
}

async function markEach(tier: DedupTier, hashes: bigint[], at: number[], logger: Logger): Promise<void> {
  // Group by time so a tier gets few calls: backfilled entries keep the time the later tier had.
  const byTime = new Map<number, bigint[]>();
  hashes.forEach((h, i) => byTime.set(at[i], [...(byTime.get(at[i]) ?? []), h]));
  for (const [time, group] of byTime) await markEverywhere([tier], group, time, logger);
}
