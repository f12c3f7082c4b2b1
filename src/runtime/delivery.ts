import type { InvalidInputDetail } from '../errors.js';

/**
 * The acknowledgement of one unit of source work (an HTTP request, a Kafka window).
 *
 * Work fans out as it flows (a stage may emit several messages for one input); every piece holds the
 * delivery open. When the last hold is released the delivery is *acknowledged*: the source may then
 * answer the client or commit offsets. Any failure rejects it. Callbacks registered with `onAcked`
 * (e.g. "mark these series seen in the dedup tier") run only after acknowledgement.
 */
export class Delivery {
  private holds = 0;
  private settled = false;
  private readonly ackedCallbacks: Array<() => void | Promise<void>> = [];
  /** Invalid input that was dropped on the way (the rest was delivered): reported as 400 by HTTP. */
  readonly rejected: InvalidInputDetail[] = [];
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;

  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A rejection nobody awaits must not crash the process; sources always await `done`.
    this.done.catch(() => undefined);
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** Take a hold: the delivery cannot be acknowledged until it is released. */
  hold(): void {
    if (this.settled) return;
    this.holds += 1;
  }

  /** Release a hold taken with `hold()`; the last release acknowledges the delivery. */
  release(): void {
    if (this.settled) return;
    this.holds -= 1;
    if (this.holds <= 0) void this.acknowledge();
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectDone(err);
  }

  /** Run `fn` after the delivery is acknowledged, before the source is told. */
  onAcked(fn: () => void | Promise<void>): void {
    this.ackedCallbacks.push(fn);
  }

  private async acknowledge(): Promise<void> {
    this.settled = true;
    try {
      for (const fn of this.ackedCallbacks) await fn();
      this.resolveDone();
    } catch (err) {
      this.rejectDone(err);
    }
  }
}
