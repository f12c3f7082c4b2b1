import { filter, mergeMap } from 'rxjs';
import { z } from 'zod';
import { duration } from '../../config/units.js';
import type { DedupTier } from '../../dedup/tier.js';
import type { Logger } from '../../logger.js';
import { hashHigh, hashLow, metadataHash, type SeriesBatch } from '../../series/canonical.js';
import { isHashedSeriesBatch, type HashedSeriesBatch } from '../../series/hashed-batch.js';
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
 * Marks start once a batch is acknowledged. The acknowledgement goes out without waiting for them
 * while at most `max` batches are being marked, and waits past that. Marks never reject: a tier
 * that fails to mark is logged (a duplicate later, never a loss).
 */
class PendingMarks {
  private pending = 0;
  constructor(private readonly max: number) {}

  start(mark: () => Promise<void>): Promise<void> | undefined {
    this.pending++;
    const done = mark().finally(() => {
      this.pending--;
    });
    return this.pending > this.max ? done : undefined;
  }
}

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
    const marks = new PendingMarks(config.max_pending_marks);
    return (source) =>
      source.pipe(
        mergeMap((msg: Message<SeriesBatch>) => {
          if (!isHashedSeriesBatch(msg.payload)) return dedupBatch(msg, tiers, config, marks, ctx.logger);
          const result = dedupHashedBatch(msg as Message<HashedSeriesBatch>, tiers, config, marks, ctx.logger);
          // Synchronous when the in-process tier settles everything: no promise per batch.
          return result instanceof Promise ? result : [result];
        }),
        filter((m): m is Message<SeriesBatch> => m !== null),
      );
  },
});

type DedupConfig = z.output<typeof dedupConfig>;

async function dedupBatch(msg: Message<SeriesBatch>, tiers: DedupTier[], config: DedupConfig, marks: PendingMarks, logger: Logger): Promise<Message<SeriesBatch> | null> {
  const batch = msg.payload;
  const now = Date.now();
  // Series, then metadata, as hash halves: the tiers are asked and marked as for a hashed batch.
  const metaHashes = config.metadata ? batch.metadata.map(metadataHash) : [];
  const hashes = [...batch.series.map((s) => s.hash), ...metaHashes];
  const hi = Uint32Array.from(hashes, hashHigh);
  const lo = Uint32Array.from(hashes, hashLow);
  const fresh = await unseenPairs(hi, lo, hashes.length, tiers, 0, now - config.refresh_after, logger);
  const seriesCount = batch.series.length;
  const series = batch.series.filter((_, i) => fresh[i] === 1);
  const metadata = config.metadata ? batch.metadata.filter((_, j) => fresh[seriesCount + j] === 1) : batch.metadata;
  if (series.length === 0 && metadata.length === 0) return null;

  // What is dispatched: the fresh positions, series and metadata alike.
  const dispatchedHi: number[] = [];
  const dispatchedLo: number[] = [];
  for (let k = 0; k < hashes.length; k++) {
    if (fresh[k] === 0) continue;
    dispatchedHi.push(hi[k]);
    dispatchedLo.push(lo[k]);
  }
  const markHi = Uint32Array.from(dispatchedHi);
  const markLo = Uint32Array.from(dispatchedLo);
  msg.delivery.onAcked(() => marks.start(() => markPairsEverywhere(tiers, markHi, markLo, markHi.length, now, logger)));
  return msg.with({ ...batch, series, metadata });
}

/**
 * A batch from canonicalize's fast path: the series are checked by hash in the in-process tier
 * first, synchronously, and only those it does not know go on to the other tiers. In the steady
 * state that is none, and nothing is allocated per series; new series travel as uint32 halves
 * (no BigInt each) to the other tiers.
 */
function dedupHashedBatch(msg: Message<HashedSeriesBatch>, tiers: DedupTier[], config: DedupConfig, marks: PendingMarks, logger: Logger): Message<SeriesBatch> | null | Promise<Message<SeriesBatch> | null> {
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
  // Metadata entries the first tier does not know, by index, with their hash halves.
  const metaIndexes: number[] = [];
  const metaHi: number[] = [];
  const metaLo: number[] = [];
  if (config.metadata) {
    batch.metadata.forEach((m, i) => {
      const hash = metadataHash(m);
      const hi = hashHigh(hash);
      const lo = hashLow(hash);
      if (!firstChecked || !known(hi, lo)) {
        metaIndexes.push(i);
        metaHi.push(hi);
        metaLo.push(lo);
      }
    });
  }
  const seriesCount = candidates.length;
  /** `fresh[k]`: pending hash k (candidates, then metadata) is unknown to every tier; undefined: all are. */
  const pass = (fresh: Uint8Array | undefined): Message<SeriesBatch> | null => {
    const seriesCandidates = fresh === undefined ? candidates : candidates.filter((_, j) => fresh[j] === 1);
    const freshMeta: number[] = [];
    for (let j = 0; j < metaIndexes.length; j++) if (fresh === undefined || fresh[seriesCount + j] === 1) freshMeta.push(j);
    const metadata = config.metadata ? freshMeta.map((j) => batch.metadata[metaIndexes[j]]) : batch.metadata;
    if (seriesCandidates.length === 0 && metadata.length === 0) return null;
    const fresh$ = batch.subset(seriesCandidates, metadata);
    // The subset merged repeats of a series: its halves are what is dispatched.
    const count = fresh$.size + freshMeta.length;
    const hi = new Uint32Array(count);
    const lo = new Uint32Array(count);
    hi.set(fresh$.hashHi.subarray(0, fresh$.size));
    lo.set(fresh$.hashLo.subarray(0, fresh$.size));
    freshMeta.forEach((j, k) => {
      hi[fresh$.size + k] = metaHi[j];
      lo[fresh$.size + k] = metaLo[j];
    });
    msg.delivery.onAcked(() => marks.start(() => markPairsEverywhere(tiers, hi, lo, count, now, logger)));
    return msg.with<SeriesBatch>(fresh$);
  };
  const rest = firstChecked ? 1 : 0;
  if (seriesCount === 0 && metaIndexes.length === 0) return pass(undefined);
  if (rest >= tiers.length) return pass(undefined);
  const count = seriesCount + metaIndexes.length;
  const hi = new Uint32Array(count);
  const lo = new Uint32Array(count);
  for (let j = 0; j < seriesCount; j++) {
    hi[j] = batch.hashHi[candidates[j]];
    lo[j] = batch.hashLo[candidates[j]];
  }
  for (let j = 0; j < metaIndexes.length; j++) {
    hi[seriesCount + j] = metaHi[j];
    lo[seriesCount + j] = metaLo[j];
  }
  return unseenPairs(hi, lo, count, tiers, rest, freshAfter, logger).then(pass);
}

/**
 * Per hash (as uint32 halves), 1 when no tier from `startAt` on has seen it since `freshAfter`;
 * tiers that know a hash teach the tiers before them (all of them, also those before `startAt`).
 */
async function unseenPairs(hi: Uint32Array, lo: Uint32Array, count: number, tiers: DedupTier[], startAt: number, freshAfter: number, logger: Logger): Promise<Uint8Array> {
  const fresh = new Uint8Array(count).fill(1);
  // Positions still unknown, and their halves side by side (what the next tier is asked).
  let pending = new Int32Array(count);
  for (let k = 0; k < count; k++) pending[k] = k;
  let pendingCount = count;
  let pendingHi = hi;
  let pendingLo = lo;
  const backfill: Array<{ upTo: number; hi: Uint32Array; lo: Uint32Array; at: Float64Array }> = [];
  for (let t = startAt; t < tiers.length && pendingCount > 0; t++) {
    const tier = tiers[t];
    if (!tier.healthy()) continue;
    let answers: Float64Array;
    try {
      answers = await tier.lookupPairs(pendingHi, pendingLo, pendingCount);
    } catch (err) {
      // A tier that fails only costs duplicates, never loss: treat everything as unknown.
      logger.warn({ tier: tier.name, err: String(err) }, 'dedup tier lookup failed; passing series on');
      continue;
    }
    let knownCount = 0;
    for (let k = 0; k < pendingCount; k++) if (answers[k] > freshAfter) knownCount++;
    if (knownCount === 0) continue;
    const known = { upTo: t, hi: new Uint32Array(knownCount), lo: new Uint32Array(knownCount), at: new Float64Array(knownCount) };
    const next = new Int32Array(pendingCount - knownCount);
    const nextHi = new Uint32Array(pendingCount - knownCount);
    const nextLo = new Uint32Array(pendingCount - knownCount);
    let kn = 0;
    let nx = 0;
    for (let k = 0; k < pendingCount; k++) {
      if (answers[k] > freshAfter) {
        fresh[pending[k]] = 0;
        known.hi[kn] = pendingHi[k];
        known.lo[kn] = pendingLo[k];
        known.at[kn++] = answers[k];
      } else {
        next[nx] = pending[k];
        nextHi[nx] = pendingHi[k];
        nextLo[nx++] = pendingLo[k];
      }
    }
    if (t > 0) backfill.push(known);
    pending = next;
    pendingHi = nextHi;
    pendingLo = nextLo;
    pendingCount = nx;
  }
  for (const b of backfill) {
    for (let t = 0; t < b.upTo; t++) await markPairsEach(tiers[t], b.hi, b.lo, b.at, logger);
  }
  return fresh;
}

async function markPairsEverywhere(tiers: DedupTier[], hi: Uint32Array, lo: Uint32Array, count: number, at: number, logger: Logger): Promise<void> {
  if (count === 0) return;
  await Promise.all(
    tiers.map((tier) =>
      tier.markPairs(hi, lo, count, at).catch((err: unknown) => {
        // The data is already delivered; failing to remember it only means a duplicate later.
        logger.warn({ tier: tier.name, err: String(err) }, 'dedup tier mark failed');
      }),
    ),
  );
}

async function markPairsEach(tier: DedupTier, hi: Uint32Array, lo: Uint32Array, at: Float64Array, logger: Logger): Promise<void> {
  // Group by time so a tier gets few calls: backfilled entries keep the time the later tier had.
  const byTime = new Map<number, number[]>();
  at.forEach((time, k) => {
    const group = byTime.get(time);
    if (group === undefined) byTime.set(time, [k]);
    else group.push(k);
  });
  for (const [time, group] of byTime) {
    const groupHi = Uint32Array.from(group, (k) => hi[k]);
    const groupLo = Uint32Array.from(group, (k) => lo[k]);
    await markPairsEverywhere([tier], groupHi, groupLo, group.length, time, logger);
  }
}
