import type { RetryPolicy } from '../runtime/retry.js';
import { BatchTicket } from './batch-ticket.js';
import { Shard, type ShardObserver, type ShardSettings } from './shard.js';
import type { EncodeRequest, PermanentFailure, SendRequest, SeriesSamples } from './types.js';

/**
 * The queue manager of the remote_write sink, after Prometheus' remote-write queues.
 *
 * Samples are sharded by series hash over N independent shards (shard.ts), so a series always
 * lands on the same shard, and each shard sends one request at a time: a series' samples reach
 * the receiver in the order they were enqueued, across retries too. A shard sends a request when
 * it holds `maxSamplesPerSend` samples, or when a partial batch has waited `batchSendDeadlineMs`.
 *
 * Retriable failures (5xx, 429, network errors, timeouts) are retried with exponential backoff
 * and jitter, or after the receiver's `Retry-After`; the shard waits meanwhile, which is what keeps
 * the order. A request refused for good (other 4xx), or one out of retries, goes to the failure
 * callback (the sink's dead-letter topic) and the shard moves on: one bad series does not block it.
 *
 * `enqueue` admits a batch into the shards' bounded queues. When a shard is full, admission waits
 * (`admitted` resolves later), and so do the batches enqueued after it: admission is one FIFO, so
 * order holds between batches too, and memory is bounded by `capacity` per shard plus the requests
 * in flight, as long as the caller awaits `admitted` before enqueueing more. `delivered` resolves
 * once every sample of the batch got a 2xx or was handed to the failure callback: the sink commits
 * Kafka offsets then, never earlier.
 *
 * `reshard(n)` waits for the admissions before it, drains every shard (partial batches go at once)
 * and replaces them with n new ones; admissions after it wait. No series has samples in two
 * shards at a time, so no sample is lost or overtaken. The shard count itself comes from
 * desired-shards.ts, driven by shard-autoscaler.ts with the running totals kept here.
 */

export interface ShardQueuesOptions {
  shards: number;
  /** Samples each shard holds waiting to be sent; at least `maxSamplesPerSend`. */
  capacity: number;
  maxSamplesPerSend: number;
  batchSendDeadlineMs: number;
  retry?: RetryPolicy;
  encode: EncodeRequest;
  send: SendRequest;
  /** Takes what the receiver refused for good; the batch is delivered once this resolves. */
  onPermanentFailure: (failure: PermanentFailure) => void | Promise<void>;
  metrics?: ShardQueuesMetrics;
  /** For the backoff jitter. */
  random?: () => number;
}

/** Where the queues report what they do (prom-client wiring comes with the stage). */
export interface ShardQueuesMetrics {
  shards(count: number): void;
  /** Samples enqueued and not yet done with. */
  pendingSamples(count: number): void;
  samplesSent(count: number): void;
  /** Samples handed to the failure callback. */
  samplesFailed(count: number): void;
  /** A request of `samples` samples failed with a retriable error and will be sent again. */
  retried(samples: number): void;
}

/** Prometheus' defaults: 30 ms doubling to 5 s; retriable errors are retried until they succeed. */
export const defaultRemoteWriteRetry: RetryPolicy = {
  maxRetries: Number.POSITIVE_INFINITY,
  initialBackoffMs: 30,
  maxBackoffMs: 5_000,
  multiplier: 2,
  jitter: 0.2,
};

export interface Enqueued {
  /** The batch is in the shards' queues: the caller may enqueue the next one. */
  admitted: Promise<void>;
  /** Every sample got a 2xx or went to the failure callback. */
  delivered: Promise<void>;
}

const noMetrics: ShardQueuesMetrics = { shards() {}, pendingSamples() {}, samplesSent() {}, samplesFailed() {}, retried() {} };
const ADMITTED = Promise.resolve();

/** Where a partly admitted batch stopped: a series, and the offset of its first sample not yet admitted. */
interface Cursor {
  series: number;
  offset: number;
}

export class ShardQueues {
  /** Running totals the autoscaler turns into rates: samples in, samples done, seconds in requests. */
  readonly totals = { samplesIn: 0, samplesOut: 0, sendSeconds: 0 };
  private shards: Shard[];
  private readonly settings: ShardSettings;
  private readonly observer: ShardObserver;
  private readonly metrics: ShardQueuesMetrics;
  private failingShards = 0;
  /** The last admission or reshard waiting or running; later ones go after it. */
  private tail: Promise<void> | undefined;
  private closed = false;

  constructor(options: ShardQueuesOptions) {
    if (!Number.isInteger(options.maxSamplesPerSend) || options.maxSamplesPerSend < 1) {
      throw new RangeError(`maxSamplesPerSend must be a positive integer, got ${options.maxSamplesPerSend}`);
    }
    if (!(options.capacity >= options.maxSamplesPerSend)) {
      throw new RangeError(`capacity (${options.capacity}) must be at least maxSamplesPerSend (${options.maxSamplesPerSend})`);
    }
    checkShardCount(options.shards);
    this.metrics = options.metrics ?? noMetrics;
    this.settings = {
      capacity: options.capacity,
      maxSamplesPerSend: options.maxSamplesPerSend,
      batchSendDeadlineMs: options.batchSendDeadlineMs,
      retry: options.retry ?? defaultRemoteWriteRetry,
      encode: options.encode,
      send: options.send,
      onPermanentFailure: options.onPermanentFailure,
      random: options.random ?? Math.random,
    };
    this.observer = {
      finished: (samples, seconds, ok) => {
        this.totals.samplesOut += samples;
        this.totals.sendSeconds += seconds;
        if (ok) this.metrics.samplesSent(samples);
        else this.metrics.samplesFailed(samples);
        this.metrics.pendingSamples(this.pendingSamples);
      },
      retrying: (samples) => this.metrics.retried(samples),
      failingChanged: (failing) => {
        this.failingShards += failing ? 1 : -1;
      },
    };
    this.shards = this.createShards(options.shards);
  }

  get shardCount(): number {
    return this.shards.length;
  }

  /** Samples enqueued and not yet done with, waiting for admission included. */
  get pendingSamples(): number {
    return this.totals.samplesIn - this.totals.samplesOut;
  }

  /** Some shard failed with a retriable error and has not had a 2xx since. */
  get sendsFailing(): boolean {
    return this.failingShards > 0;
  }

  enqueue(batch: readonly SeriesSamples[]): Enqueued {
    if (this.closed) throw new Error('remote write queues are closed');
    let samples = 0;
    for (const series of batch) samples += series.samples.length;
    const ticket = new BatchTicket(samples);
    this.totals.samplesIn += samples;
    this.metrics.pendingSamples(this.pendingSamples);
    // The common case, nothing waiting and room everywhere, admits at once without a promise hop.
    const stopped = this.tail === undefined ? this.admitWhileRoom(batch, ticket, { series: 0, offset: 0 }) : { series: 0, offset: 0 };
    const admitted = stopped === undefined ? ADMITTED : this.after(() => this.admit(batch, ticket, stopped));
    return { admitted, delivered: ticket.delivered };
  }

  /** Flushes every shard and replaces them with `count` new ones, once earlier admissions are done. */
  reshard(count: number): Promise<void> {
    checkShardCount(count);
    return this.after(async () => {
      if (count === this.shards.length) return;
      await Promise.all(this.shards.map((shard) => shard.drain()));
      this.failingShards = 0;
      this.shards = this.createShards(count);
    });
  }

  /** Refuses new batches, and resolves once everything enqueued before is delivered. */
  close(): Promise<void> {
    this.closed = true;
    return this.after(async () => {
      await Promise.all(this.shards.map((shard) => shard.drain()));
    });
  }

  private createShards(count: number): Shard[] {
    const shards: Shard[] = [];
    for (let i = 0; i < count; i++) shards.push(new Shard(this.settings, this.observer));
    this.metrics.shards(count);
    return shards;
  }

  /** The low 32 bits of the xxHash64 series hash are uniform enough to pick a shard. */
  private shardOf(series: SeriesSamples): Shard {
    return this.shards[series.hashLo % this.shards.length];
  }

  /** Runs `step` after every admission and reshard before it. */
  private after(step: () => Promise<void>): Promise<void> {
    const run = (this.tail ?? ADMITTED).then(step);
    const tail: Promise<void> = run.then(
      () => this.clearTail(tail),
      () => this.clearTail(tail),
    );
    this.tail = tail;
    return run;
  }

  private clearTail(tail: Promise<void>): void {
    if (this.tail === tail) this.tail = undefined;
  }

  private async admit(batch: readonly SeriesSamples[], ticket: BatchTicket, from: Cursor): Promise<void> {
    let stopped = this.admitWhileRoom(batch, ticket, from);
    while (stopped !== undefined) {
      await this.shardOf(batch[stopped.series]).room();
      stopped = this.admitWhileRoom(batch, ticket, stopped);
    }
  }

  /**
   * Queues the batch from `from` on, each series in pieces of at most `maxSamplesPerSend`, until
   * a shard has no room; returns where it stopped, or undefined when all of it is queued.
   */
  private admitWhileRoom(batch: readonly SeriesSamples[], ticket: BatchTicket, from: Cursor): Cursor | undefined {
    const max = this.settings.maxSamplesPerSend;
    for (let i = from.series; i < batch.length; i++) {
      const series = batch[i];
      const shard = this.shardOf(series);
      const count = series.samples.length;
      let offset = i === from.series ? from.offset : 0;
      while (offset < count) {
        const end = Math.min(count, offset + max);
        if (!shard.hasRoomFor(end - offset)) return { series: i, offset };
        shard.push(offset === 0 && end === count ? series : { ...series, samples: series.samples.slice(offset, end) }, ticket);
        offset = end;
      }
    }
    return undefined;
  }
}

function checkShardCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer, got ${count}`);
}
