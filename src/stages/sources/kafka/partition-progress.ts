/**
 * Which offsets of one partition may be committed. Batches are handed out in offset order and
 * may finish out of order (windows, concurrency); a commit must never pass a batch that is not
 * durably done, so what can be committed is the end of the longest done prefix.
 */
export interface PendingBatch {
  readonly firstOffset: bigint;
  readonly nextOffset: bigint;
  generation: number;
  done: boolean;
}

export class PartitionProgress {
  private pending: PendingBatch[] = [];
  /** Bumped when the partition is rewound: batches of an older generation no longer count. */
  private generation = 0;
  /** Highest offset handed to `commit` (next offset to read). */
  committed: bigint | undefined;

  get inFlight(): number {
    return this.pending.length;
  }

  add(firstOffset: bigint, nextOffset: bigint): PendingBatch {
    const batch = { firstOffset, nextOffset, generation: this.generation, done: false };
    this.pending.push(batch);
    return batch;
  }

  /** Mark done; returns the offset to commit if the done prefix grew. */
  ack(batch: PendingBatch): bigint | undefined {
    if (batch.generation !== this.generation) return undefined;
    batch.done = true;
    let advanced: bigint | undefined;
    while (this.pending.length > 0 && this.pending[0].done) advanced = this.pending.shift()!.nextOffset;
    if (advanced !== undefined) this.committed = advanced;
    return advanced;
  }

  /**
   * A batch failed for good: everything from it on must be read again. Returns the offset to seek
   * to, or undefined when an earlier failure already rewound past it.
   */
  fail(batch: PendingBatch): bigint | undefined {
    if (batch.generation !== this.generation) return undefined;
    const at = this.pending.indexOf(batch);
    if (at < 0) return undefined;
    this.pending = this.pending.slice(0, at);
    this.generation += 1;
    // Earlier batches still in flight keep counting: they were read before the failed one.
    for (const p of this.pending) p.generation = this.generation;
    return batch.firstOffset;
  }

  /** The partition was taken away: forget what is in flight (it will be read again by its next owner). */
  reset(): void {
    this.pending = [];
    this.generation += 1;
  }
}
