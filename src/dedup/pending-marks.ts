/**
 * Marks start once a batch is acknowledged. The acknowledgement goes out without waiting for them
 * while at most `max` batches are being marked, and waits past that. Marks never reject: a tier
 * that fails to mark is logged (a duplicate later, never a loss).
 */
export class PendingMarks {
  private pending = 0;
  constructor(private readonly max: number) {}

  /** Starts `mark`; returns what the acknowledgement must wait for, if anything. */
  start(mark: () => Promise<void>): Promise<void> | undefined {
    this.pending++;
    const done = mark().finally(() => {
      this.pending--;
    });
    return this.pending > this.max ? done : undefined;
  }
}
