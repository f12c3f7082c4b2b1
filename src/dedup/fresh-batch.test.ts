import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import type { MetricMetadata } from '../remote-write/types.js';
import { hashFromHalves } from '../series/series-hash.js';
import { metadataHash } from '../series/metadata-identity.js';
import { hashedBatch, hashOf, seriesBatch } from './batches.test-support.js';
import { freshBatch, type FreshBatch, type FreshOptions } from './fresh-batch.js';
import { memoryTier } from './memory-tier.js';
import { TierChain } from './tier-chain.js';
import type { DedupTier } from './tier.js';
import { markHashes, withoutHalves } from './tier.test-support.js';

const NOW = Math.floor(Date.now() / 1000) * 1000;
const options: FreshOptions = { refreshAfter: 60_000, metadata: true };
const memory = (name: string) => memoryTier(name, 1000, 3_600_000);
const chain = (...tiers: DedupTier[]) => new TierChain(tiers, silentLogger());
const meta = (name: string): MetricMetadata => ({ metricFamilyName: name, type: 'gauge', help: 'h', unit: '' });

/** What a result passes on and marks, by hash. */
function outcome(fresh: FreshBatch | null) {
  if (fresh === null) return null;
  const marks = Array.from({ length: fresh.count }, (_, k) => hashFromHalves(fresh.hi[k], fresh.lo[k]));
  return { series: fresh.batch.series.map((s) => s.hash), metadata: fresh.batch.metadata.map((m) => m.metricFamilyName), marks };
}

describe('freshBatch of a plain batch', () => {
  it('passes the series and metadata no tier saw recently, and marks their hashes, series then metadata', async () => {
    const t1 = memory('t1');
    await markHashes(t1, [2n, metadataHash(meta('a'))], NOW - 30_000);
    await markHashes(t1, [3n], NOW - 90_000); // longer ago than refreshAfter: fresh again
    const batch = { ...seriesBatch(1n, 2n, 3n), metadata: [meta('a'), meta('b')] };
    expect(outcome(await freshBatch(batch, chain(t1), options, NOW))).toEqual({ series: [1n, 3n], metadata: ['b'], marks: [1n, 3n, metadataHash(meta('b'))] });
  });

  it('passes nothing when every series and entry was seen', async () => {
    const t1 = memory('t1');
    await markHashes(t1, [1n, metadataHash(meta('a'))], NOW);
    expect(await freshBatch({ ...seriesBatch(1n), metadata: [meta('a')] }, chain(t1), options, NOW)).toBeNull();
  });

  it('passes metadata untouched, without asking about it, when metadata is not deduplicated', async () => {
    const t1 = withoutHalves(memory('t1'));
    await markHashes(t1, [metadataHash(meta('a'))], NOW);
    const fresh = await freshBatch({ ...seriesBatch(1n), metadata: [meta('a')] }, chain(t1), { ...options, metadata: false }, NOW);
    expect(outcome(fresh)).toEqual({ series: [1n], metadata: ['a'], marks: [1n] });
    expect(t1.lookups).toEqual([[1n]]);
  });
});

describe('freshBatch of a hashed batch', () => {
  it('settles it synchronously when the first tier knows every series, or is the only tier', async () => {
    const t1 = memory('t1');
    await markHashes(t1, [hashOf(1), hashOf(2)], NOW);
    expect(freshBatch(hashedBatch([1, 2]), chain(t1, memory('t2')), options, NOW)).toBeNull();
    const alone = freshBatch(hashedBatch([1, 2, 3]), chain(t1), options, NOW);
    expect(alone).not.toBeInstanceOf(Promise);
    expect(outcome(alone as FreshBatch)).toEqual({ series: [hashOf(3)], metadata: [], marks: [hashOf(3)] });
  });

  it('asks the later tiers only about what the first did not know, and marks a repeated series once', async () => {
    const t1 = memory('t1');
    const t2 = withoutHalves(memory('t2'));
    await markHashes(t1, [hashOf(2)], NOW);
    await markHashes(t2, [hashOf(4)], NOW);
    const fresh = freshBatch(hashedBatch([1, 2, 3, 1, 4]), chain(t1, t2), options, NOW);
    expect(fresh).toBeInstanceOf(Promise);
    expect(outcome(await fresh)).toEqual({ series: [hashOf(1), hashOf(3)], metadata: [], marks: [hashOf(1), hashOf(3)] });
    expect(t2.lookups).toEqual([[hashOf(1), hashOf(3), hashOf(1), hashOf(4)]]);
  });

  it('dedups its metadata entries by hash through the same tiers', async () => {
    const t1 = memory('t1');
    const t2 = memory('t2');
    await markHashes(t1, [hashOf(1), metadataHash(meta('m1'))], NOW);
    await markHashes(t2, [metadataHash(meta('m2'))], NOW);
    const fresh = await freshBatch(hashedBatch([1], [meta('m1'), meta('m2'), meta('m3')]), chain(t1, t2), options, NOW);
    expect(outcome(fresh)).toEqual({ series: [], metadata: ['m3'], marks: [metadataHash(meta('m3'))] });
  });
});
