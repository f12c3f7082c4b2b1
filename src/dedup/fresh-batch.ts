import type { SeriesBatch } from '../series/canonical.js';
import { hashHigh, hashLow } from '../series/series-hash.js';
import { metadataHash } from '../series/metadata-identity.js';
import { isHashedSeriesBatch, type HashedSeriesBatch } from '../series/hashed-batch.js';
import type { TierChain } from './tier-chain.js';

export interface FreshOptions {
  /** ms: a series last dispatched longer ago than this is fresh again. */
  refreshAfter: number;
  /** Dedup metadata entries too (else they all pass). */
  metadata: boolean;
}

/** What passes the dedup, and the hashes (uint32 halves) to mark once it is delivered. */
export interface FreshBatch {
  batch: SeriesBatch;
  hi: Uint32Array;
  lo: Uint32Array;
  count: number;
}

/**
 * The series (and metadata) of `batch` that no tier saw dispatched since `now - refreshAfter`, or
 * null when there are none. Synchronous when the in-process tier settles a hashed batch by itself.
 */
export function freshBatch(batch: SeriesBatch, tiers: TierChain, options: FreshOptions, now: number): FreshBatch | null | Promise<FreshBatch | null> {
  return isHashedSeriesBatch(batch) ? freshHashedBatch(batch, tiers, options, now) : freshSeriesBatch(batch, tiers, options, now);
}

async function freshSeriesBatch(batch: SeriesBatch, tiers: TierChain, options: FreshOptions, now: number): Promise<FreshBatch | null> {
  // Series, then metadata, as hash halves: the tiers are asked and marked as for a hashed batch.
  const metaHashes = options.metadata ? batch.metadata.map(metadataHash) : [];
  const hashes = [...batch.series.map((s) => s.hash), ...metaHashes];
  const hi = Uint32Array.from(hashes, hashHigh);
  const lo = Uint32Array.from(hashes, hashLow);
  const fresh = await tiers.unseen(hi, lo, hashes.length, 0, now - options.refreshAfter);
  const seriesCount = batch.series.length;
  const series = batch.series.filter((_, i) => fresh[i] === 1);
  const metadata = options.metadata ? batch.metadata.filter((_, j) => fresh[seriesCount + j] === 1) : batch.metadata;
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
  return { batch: { ...batch, series, metadata }, hi: markHi, lo: Uint32Array.from(dispatchedLo), count: markHi.length };
}

/**
 * A batch from canonicalize's fast path: the series are checked by hash in the in-process tier
 * first, synchronously, and only those it does not know go on to the other tiers. In the steady
 * state that is none, and nothing is allocated per series; new series travel as uint32 halves
 * (no BigInt each) to the other tiers.
 */
function freshHashedBatch(batch: HashedSeriesBatch, tiers: TierChain, options: FreshOptions, now: number): FreshBatch | null | Promise<FreshBatch | null> {
  const freshAfter = now - options.refreshAfter;
  const first = tiers.tiers[0];
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
  if (options.metadata) {
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
  const pass = (fresh: Uint8Array | undefined): FreshBatch | null => {
    const seriesCandidates = fresh === undefined ? candidates : candidates.filter((_, j) => fresh[j] === 1);
    const freshMeta: number[] = [];
    for (let j = 0; j < metaIndexes.length; j++) if (fresh === undefined || fresh[seriesCount + j] === 1) freshMeta.push(j);
    const metadata = options.metadata ? freshMeta.map((j) => batch.metadata[metaIndexes[j]]) : batch.metadata;
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
    return { batch: fresh$, hi, lo, count };
  };
  const rest = firstChecked ? 1 : 0;
  if (seriesCount === 0 && metaIndexes.length === 0) return pass(undefined);
  if (rest >= tiers.tiers.length) return pass(undefined);
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
  return tiers.unseen(hi, lo, count, rest, freshAfter).then(pass);
}
