/**
 * The acknowledgement of one enqueued batch, all or nothing: `delivered` resolves once every one of
 * its samples was sent with a 2xx or handed to the failure callback, wherever its series went (a
 * batch spans shards, and a series may span requests). Only then may the sink commit the batch's
 * Kafka offsets. It rejects when a failure could not be handed over.
 */
export class BatchTicket {
  readonly delivered: Promise<void>;
  private remaining: number;
  private settled = false;
  private resolve!: () => void;
  private reject!: (err: unknown) => void;

  constructor(samples: number) {
    this.remaining = samples;
    this.delivered = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Unobserved, a rejection must not crash the process; the sink always awaits `delivered`.
    this.delivered.catch(() => undefined);
    if (samples === 0) this.finish(0);
  }

  /** `count` of its samples are done with. */
  finish(count: number): void {
    this.remaining -= count;
    if (this.remaining > 0 || this.settled) return;
    this.settled = true;
    this.resolve();
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }
}
