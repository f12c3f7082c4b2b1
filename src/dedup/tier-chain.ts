import type { Logger } from '../logger.js';
import type { DedupTier } from './tier.js';

/**
 * The dedup tiers in the order they are asked, cheapest first. A tier that fails costs
 * duplicates, never loss: its failures are logged, and what it was asked counts as unknown.
 */
export class TierChain {
  constructor(readonly tiers: readonly DedupTier[], private readonly logger: Logger) {}

  /**
   * Per hash (as uint32 halves), 1 when no tier from `startAt` on has seen it since `freshAfter`;
   * tiers that know a hash teach the tiers before them (all of them, also those before `startAt`).
   */
  async unseen(hi: Uint32Array, lo: Uint32Array, count: number, startAt: number, freshAfter: number): Promise<Uint8Array> {
    const { tiers } = this;
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
        this.logger.warn({ tier: tier.name, err: String(err) }, 'dedup tier lookup failed; passing series on');
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
      for (let t = 0; t < b.upTo; t++) await this.markKeepingTimes(tiers[t], b.hi, b.lo, b.at);
    }
    return fresh;
  }

  /** Records in every tier that the first `count` hashes were dispatched at `at`; never rejects. */
  async mark(hi: Uint32Array, lo: Uint32Array, count: number, at: number): Promise<void> {
    if (count === 0) return;
    await Promise.all(this.tiers.map((tier) => this.markIn(tier, hi, lo, count, at)));
  }

  /** Marks each hash with its own time `at[k]`, the times grouped so the tier gets few calls. */
  private async markKeepingTimes(tier: DedupTier, hi: Uint32Array, lo: Uint32Array, at: Float64Array): Promise<void> {
    // Backfilled entries keep the time the later tier had.
    const byTime = new Map<number, number[]>();
    at.forEach((time, k) => {
      const group = byTime.get(time);
      if (group === undefined) byTime.set(time, [k]);
      else group.push(k);
    });
    for (const [time, group] of byTime) {
      const groupHi = Uint32Array.from(group, (k) => hi[k]);
      const groupLo = Uint32Array.from(group, (k) => lo[k]);
      await this.markIn(tier, groupHi, groupLo, group.length, time);
    }
  }

  private markIn(tier: DedupTier, hi: Uint32Array, lo: Uint32Array, count: number, at: number): Promise<void> {
    return tier.markPairs(hi, lo, count, at).catch((err: unknown) => {
      // The data is already delivered; failing to remember it only means a duplicate later.
      this.logger.warn({ tier: tier.name, err: String(err) }, 'dedup tier mark failed');
    });
  }
}
