/**
 * One tier of the series dedup: remembers when each series (by 64-bit hash) was last dispatched.
 * Tiers are checked in order (in-process first, then Redis); a series is marked in every tier,
 * and only after the batch carrying it was acknowledged downstream. Hashes travel as their uint32
 * halves (`hi[i]`, `lo[i]`), so no BigInt is made per series.
 */
export interface DedupTier {
  readonly name: string;
  /**
   * For each of the first `count` hashes: when it was last dispatched (ms since epoch), NaN when
   * unknown or expired.
   */
  lookupPairs(hi: Uint32Array, lo: Uint32Array, count: number): Promise<Float64Array>;
  /** Record that the first `count` hashes were dispatched at `at` (ms since epoch). */
  markPairs(hi: Uint32Array, lo: Uint32Array, count: number, at: number): Promise<void>;
  /**
   * In-process tiers may also answer one hash synchronously (undefined when unknown or expired):
   * the steady-state path checks every series of a request this way without a promise.
   */
  lookupHalves?(hi: number, lo: number, now: number): number | undefined;
  /** Whether the tier is serving now; a degraded tier answers every lookup with NaN. */
  healthy(): boolean;
}
