import { desiredShards, type MeasuredLoad, type ShardLimits } from './desired-shards.js';
import { EwmaRate } from './ewma.js';
import type { ShardQueues } from './shard-queues.js';

/** What the autoscaler needs of the queues. */
export type ScalableQueues = Pick<ShardQueues, 'totals' | 'shardCount' | 'pendingSamples' | 'sendsFailing' | 'reshard'>;

export interface ShardAutoscalerOptions extends ShardLimits {
  /** `shard_update_interval`: how often the rates are folded in and the count recomputed. */
  intervalMs: number;
  /** Told of every change, with the load that led to it (for a log line). */
  onReshard?: (from: number, to: number, load: MeasuredLoad) => void;
}

/**
 * Resizes the queues every `intervalMs`: the running totals of the queues become exponentially
 * weighted rates, desiredShards turns them into a count, and a different count is applied with
 * `reshard` (one at a time: while one drains, later ticks only measure).
 */
export class ShardAutoscaler {
  private readonly samplesIn: EwmaRate;
  private readonly samplesOut: EwmaRate;
  private readonly sendSeconds: EwmaRate;
  private last: ScalableQueues['totals'];
  private resharding = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queues: ScalableQueues,
    private readonly options: ShardAutoscalerOptions,
  ) {
    this.samplesIn = new EwmaRate(options.intervalMs);
    this.samplesOut = new EwmaRate(options.intervalMs);
    this.sendSeconds = new EwmaRate(options.intervalMs);
    this.last = { ...queues.totals };
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    // Resizing is no reason to keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Closes one interval: folds its counts into the rates, and reshards when the count should change. */
  tick(): void {
    const totals = this.queues.totals;
    this.samplesIn.incr(totals.samplesIn - this.last.samplesIn);
    this.samplesOut.incr(totals.samplesOut - this.last.samplesOut);
    this.sendSeconds.incr(totals.sendSeconds - this.last.sendSeconds);
    this.last = { ...totals };
    this.samplesIn.tick();
    this.samplesOut.tick();
    this.sendSeconds.tick();
    if (this.resharding) return;

    const load: MeasuredLoad = {
      samplesInPerSecond: this.samplesIn.rate(),
      samplesOutPerSecond: this.samplesOut.rate(),
      sendSecondsPerSecond: this.sendSeconds.rate(),
      backlogSamples: this.queues.pendingSamples,
      sendsFailing: this.queues.sendsFailing,
    };
    const current = this.queues.shardCount;
    const next = desiredShards(current, load, this.options);
    if (next === current) return;
    this.options.onReshard?.(current, next, load);
    this.resharding = true;
    const done = () => {
      this.resharding = false;
    };
    this.queues.reshard(next).then(done, done);
  }
}
