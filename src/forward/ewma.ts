/**
 * An exponentially weighted rate, as Prometheus' remote-write queue measures its load: events are
 * counted as they happen, and every `intervalMs` a tick folds that interval's rate into the average
 * with `weight` (0.2: a step change shows ~67% after 5 ticks), so one burst does not flip decisions.
 */
export class EwmaRate {
  private events = 0;
  private perSecond = 0;
  private primed = false;

  constructor(
    readonly intervalMs: number,
    readonly weight = 0.2,
  ) {
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
    if (!(weight > 0 && weight <= 1)) throw new RangeError(`weight must be in (0, 1], got ${weight}`);
  }

  incr(count: number): void {
    this.events += count;
  }

  /** Closes the current interval. The first tick takes its rate as is: there is nothing to average yet. */
  tick(): void {
    const instant = this.events / (this.intervalMs / 1000);
    this.events = 0;
    if (this.primed) {
      this.perSecond += this.weight * (instant - this.perSecond);
    } else {
      this.perSecond = instant;
      this.primed = true;
    }
  }

  /** Events per second, as of the last tick. */
  rate(): number {
    return this.perSecond;
  }
}
