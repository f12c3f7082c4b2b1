import { isRetriable } from '../errors.js';
import { backoffDelayMs, type RetryPolicy } from '../runtime/retry.js';
import type { BatchTicket } from './batch-ticket.js';
import { RemoteWriteError } from './remote-write-error.js';
import type { EncodeRequest, PermanentFailure, SendRequest, SeriesSamples } from './types.js';

export interface ShardSettings {
  /** Samples a shard holds waiting to be sent (the request in flight not counted). */
  capacity: number;
  maxSamplesPerSend: number;
  /** How long a partial batch waits for more samples before it is sent anyway. */
  batchSendDeadlineMs: number;
  retry: RetryPolicy;
  encode: EncodeRequest;
  send: SendRequest;
  onPermanentFailure: (failure: PermanentFailure) => void | Promise<void>;
  random: () => number;
}

/** What a shard reports to the queues that own it. */
export interface ShardObserver {
  /** A request finished (2xx, or refused for good) after `seconds` in its last attempt. */
  finished(samples: number, seconds: number, ok: boolean): void;
  /** A request failed with a retriable error and will be sent again. */
  retrying(samples: number): void;
  /** The shard started or stopped failing (a retriable error, until the next 2xx). */
  failingChanged(failing: boolean): void;
}

/** One request's worth: its series, and how many of their samples each ticket gets back. */
interface Batch {
  series: SeriesSamples[];
  samples: number;
  /** Consecutive pieces of one enqueued batch share an entry (a batch's series mostly sit together). */
  tickets: BatchTicket[];
  counts: number[];
}

/**
 * One shard: a bounded FIFO of series pieces and a loop that sends them one request at a time,
 * so the samples of a series (which always hash to the same shard) reach the receiver in order.
 * A request carries up to `maxSamplesPerSend` samples; a partial one goes after
 * `batchSendDeadlineMs`, or at once when the shard is draining.
 */
export class Shard {
  // Parallel arrays, not an object per piece: a piece is usually one series of one sample.
  private readonly queuedSeries: SeriesSamples[] = [];
  private readonly queuedTickets: BatchTicket[] = [];
  /** Samples per piece, so taking a batch need not touch each series object again. */
  private readonly queuedCounts: number[] = [];
  private head = 0;
  private queuedSamples = 0;
  private running = false;
  private draining = false;
  private failing = false;
  /** Ends the loop's wait for a full batch. */
  private wake: (() => void) | undefined;
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly settings: ShardSettings,
    private readonly observer: ShardObserver,
  ) {}

  hasRoomFor(samples: number): boolean {
    return this.queuedSamples + samples <= this.settings.capacity;
  }

  /** Queues a piece of at most `maxSamplesPerSend` samples; the caller checked `hasRoomFor`. */
  push(series: SeriesSamples, ticket: BatchTicket): void {
    this.queuedSeries.push(series);
    this.queuedTickets.push(ticket);
    this.queuedCounts.push(series.samples.length);
    this.queuedSamples += series.samples.length;
    if (!this.running) void this.run();
    else if (this.queuedSamples >= this.settings.maxSamplesPerSend) this.wake?.();
  }

  /** Resolves when samples next leave the queue. */
  room(): Promise<void> {
    // Someone waits for room: waiting for a fuller batch would only hold them up.
    this.wake?.();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * For a shard about to be dropped: sends everything queued without waiting for full batches, and
   * resolves once all of it is done.
   */
  drain(): Promise<void> {
    this.draining = true;
    this.wake?.();
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.queuedSamples > 0) {
      if (this.queuedSamples < this.settings.maxSamplesPerSend && !this.draining) await this.fullOrDeadline();
      await this.deliver(this.take());
    }
    this.running = false;
    const idle = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of idle) resolve();
  }

  private fullOrDeadline(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.settings.batchSendDeadlineMs);
      this.wake = done;
    });
  }

  /** Takes up to `maxSamplesPerSend` samples off the queue, splitting the last piece if need be. */
  private take(): Batch {
    const batch: Batch = { series: [], samples: 0, tickets: [], counts: [] };
    const max = this.settings.maxSamplesPerSend;
    const queued = this.queuedSeries;
    while (this.head < queued.length && batch.samples < max) {
      const next = queued[this.head];
      const count = this.queuedCounts[this.head];
      const ticket = this.queuedTickets[this.head];
      const room = max - batch.samples;
      let taken: number;
      if (count <= room) {
        batch.series.push(next);
        taken = count;
        this.head++;
      } else {
        batch.series.push({ ...next, samples: next.samples.slice(0, room) });
        queued[this.head] = { ...next, samples: next.samples.slice(room) };
        this.queuedCounts[this.head] = count - room;
        taken = room;
      }
      batch.samples += taken;
      const last = batch.tickets.length - 1;
      if (last >= 0 && batch.tickets[last] === ticket) batch.counts[last] += taken;
      else {
        batch.tickets.push(ticket);
        batch.counts.push(taken);
      }
    }
    this.compact();
    this.queuedSamples -= batch.samples;
    const waiting = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiting) resolve();
    return batch;
  }

  /** Drops the taken pieces from the front of the queue, now and then rather than per take. */
  private compact(): void {
    if (this.head === this.queuedSeries.length) {
      this.queuedSeries.length = 0;
      this.queuedTickets.length = 0;
      this.queuedCounts.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queuedSeries.length) {
      this.queuedSeries.splice(0, this.head);
      this.queuedTickets.splice(0, this.head);
      this.queuedCounts.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Sends one request until it gets a 2xx, or hands it to the failure callback. */
  private async deliver(batch: Batch): Promise<void> {
    let body: Uint8Array;
    try {
      body = this.settings.encode(batch.series);
    } catch (err) {
      this.observer.finished(batch.samples, 0, false);
      return this.handOver(batch, err);
    }
    for (let failures = 1; ; failures++) {
      const started = performance.now();
      try {
        await this.settings.send(body);
        this.observer.finished(batch.samples, (performance.now() - started) / 1000, true);
        this.setFailing(false);
        finishTickets(batch);
        return;
      } catch (err) {
        if (!isRetriable(err) || failures > this.settings.retry.maxRetries) {
          this.observer.finished(batch.samples, (performance.now() - started) / 1000, false);
          // A refusal means the receiver is up; running out of retries does not.
          if (!isRetriable(err)) this.setFailing(false);
          return this.handOver(batch, err);
        }
        this.setFailing(true);
        this.observer.retrying(batch.samples);
        await sleep(this.retryDelayMs(err, failures));
      }
    }
  }

  private async handOver(batch: Batch, error: unknown): Promise<void> {
    try {
      await this.settings.onPermanentFailure({ series: batch.series, error });
      finishTickets(batch);
    } catch (handoverError) {
      for (const ticket of batch.tickets) ticket.fail(handoverError);
    }
  }

  /** The receiver's Retry-After when it gave one, else exponential backoff with jitter. */
  private retryDelayMs(err: unknown, failures: number): number {
    if (err instanceof RemoteWriteError && err.retryAfterMs !== undefined) return err.retryAfterMs;
    return backoffDelayMs(this.settings.retry, failures, this.settings.random);
  }

  private setFailing(failing: boolean): void {
    if (this.failing === failing) return;
    this.failing = failing;
    this.observer.failingChanged(failing);
  }
}

function finishTickets(batch: Batch): void {
  for (let i = 0; i < batch.tickets.length; i++) batch.tickets[i].finish(batch.counts[i]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
