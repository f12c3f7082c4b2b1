/**
 * Credits that bound how much work a source may have in flight in its pipeline. Every mailbox
 * between stages is bounded by this: a source that cannot take a credit must slow down (the HTTP
 * edge answers 503 with Retry-After, a Kafka source pauses its partitions).
 */
export class FlowControl {
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly releaseListeners = new Set<() => void>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
  }

  get used(): number {
    return this.inFlight;
  }

  get isFull(): boolean {
    return this.inFlight >= this.capacity;
  }

  /** Take a credit if one is free (push sources: shed load when this says no). */
  tryAcquire(): boolean {
    if (this.inFlight >= this.capacity) return false;
    this.inFlight += 1;
    return true;
  }

  /** Wait for a credit (pull sources). */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Take a credit even past capacity. For pull sources that learn of work only once it is fetched
   * (a Kafka batch): they take it, then pause fetching while `isFull`, so the overshoot is bounded
   * by what one fetch brings.
   */
  forceAcquire(): void {
    this.inFlight += 1;
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) {
      next(); // the credit passes straight to the waiter
      return;
    }
    if (this.inFlight > 0) this.inFlight -= 1;
    for (const listener of this.releaseListeners) listener();
  }

  /** Be told whenever a credit comes back (a paused pull source resumes). Returns the unsubscribe. */
  onRelease(listener: () => void): () => void {
    this.releaseListeners.add(listener);
    return () => this.releaseListeners.delete(listener);
  }

  /** Resolves once nothing is in flight (used when draining at shutdown). */
  async drained(pollMs = 10): Promise<void> {
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, pollMs));
  }
}
