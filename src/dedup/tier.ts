/**
 * One tier of the series dedup: remembers when each series (by 64-bit hash) was last dispatched.
 * Tiers are checked in order (in-process first, then Redis); a series is marked in every tier,
 * and only after the batch carrying it was acknowledged downstream.
 */
export interface DedupTier {
  readonly name: string;
  /** For each hash: when it was last dispatched (ms since epoch), or undefined if unknown/expired. */
  lookup(hashes: readonly bigint[]): Promise<Array<number | undefined>>;
  /** Record that these series were dispatched at `at` (ms since epoch). */
  mark(hashes: readonly bigint[], at: number): Promise<void>;
  /**
   * In-process tiers may also answer one hash, given as its uint32 halves, synchronously: the
   * steady-state path checks every series of a request this way without a promise or a BigInt.
   */
  lookupHalves?(hi: number, lo: number, now: number): number | undefined;
  /**
   * `lookup` for `count` hashes given as uint32 halves (`hi[i]`, `lo[i]`): one time per hash, NaN
   * when unknown or expired. Tiers that offer it spare the caller a BigInt per series.
   */
  lookupPairs?(hi: Uint32Array, lo: Uint32Array, count: number): Promise<Float64Array>;
  /** `mark` for `count` hashes given as uint32 halves. */
  markPairs?(hi: Uint32Array, lo: Uint32Array, count: number, at: number): Promise<void>;
  /** Whether the tier is serving now; a degraded tier answers every lookup with undefined. */
  healthy(): boolean;
}
