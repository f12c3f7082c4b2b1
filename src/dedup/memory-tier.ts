import { SeenTable } from './seen-table.js';
import type { DedupTier } from './tier.js';

/**
 * The in-process dedup tier: a bounded SeenTable whose times count for `ttl` ms. It also answers
 * synchronously (`lookupHalves`), so the steady state checks a request without a promise.
 */
export class MemoryTier implements DedupTier {
  readonly table: SeenTable;

  /** @param capacity series remembered at most; @param ttl ms a mark counts for. */
  constructor(readonly name: string, capacity: number, private readonly ttl: number) {
    this.table = new SeenTable(capacity);
  }

  lookupHalves(hi: number, lo: number, now: number): number | undefined {
    const at = this.table.getHalves(hi, lo);
    return at !== undefined && now - at < this.ttl ? at : undefined;
  }

  async lookupPairs(hi: Uint32Array, lo: Uint32Array, count: number): Promise<Float64Array> {
    const now = Date.now();
    const answers = new Float64Array(count);
    for (let i = 0; i < count; i++) answers[i] = this.lookupHalves(hi[i], lo[i], now) ?? NaN;
    return answers;
  }

  async markPairs(hi: Uint32Array, lo: Uint32Array, count: number, at: number): Promise<void> {
    for (let i = 0; i < count; i++) this.table.setHalves(hi[i], lo[i], at);
  }

  healthy(): boolean {
    return true;
  }

  /** Lets go of everything remembered (the resource's close). */
  async close(): Promise<void> {
    this.table.clear();
  }
}
