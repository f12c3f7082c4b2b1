import { hashFromHalves, hashHigh, hashLow } from '../series/series-hash.js';
import type { DedupTier } from './tier.js';

/** Tests name series by their BigInt hashes; tiers take them as uint32 halves. */
export function halvesOf(hashes: readonly bigint[]): { hi: Uint32Array; lo: Uint32Array } {
  return { hi: Uint32Array.from(hashes, hashHigh), lo: Uint32Array.from(hashes, hashLow) };
}

/** `tier.lookupPairs` of these hashes, each answer a time or undefined (NaN: unknown). */
export async function lookupHashes(tier: DedupTier, hashes: readonly bigint[]): Promise<Array<number | undefined>> {
  const { hi, lo } = halvesOf(hashes);
  const answers = await tier.lookupPairs(hi, lo, hashes.length);
  return Array.from(answers, (at) => (Number.isNaN(at) ? undefined : at));
}

/** `tier.markPairs` of these hashes. */
export function markHashes(tier: DedupTier, hashes: readonly bigint[], at: number): Promise<void> {
  const { hi, lo } = halvesOf(hashes);
  return tier.markPairs(hi, lo, hashes.length, at);
}

/** A tier that cannot answer synchronously (no lookupHalves), recording the hashes of its calls. */
export function withoutHalves(inner: DedupTier): DedupTier & { lookups: bigint[][]; marks: bigint[][] } {
  const lookups: bigint[][] = [];
  const marks: bigint[][] = [];
  const hashes = (hi: Uint32Array, lo: Uint32Array, count: number) => Array.from({ length: count }, (_, k) => hashFromHalves(hi[k], lo[k]));
  return {
    name: `${inner.name}-async`,
    lookups,
    marks,
    lookupPairs: (hi, lo, count) => (lookups.push(hashes(hi, lo, count)), inner.lookupPairs(hi, lo, count)),
    markPairs: (hi, lo, count, at) => (marks.push(hashes(hi, lo, count)), inner.markPairs(hi, lo, count, at)),
    healthy: () => true,
  };
}
