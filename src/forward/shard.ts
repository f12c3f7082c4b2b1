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

interface Queued {
  series: SeriesSamples;
  ticket: BatchTicket;
}

/**
 * One shard: a bounded FIFO of series pieces and a loop that sends them one request at a time,
 * so the samples of a series (which always hash to the same shard) reach the receiver in order.
 * A request carries up to `maxSamplesPerSend` samples; a partial one goes after
 * `batchSendDeadlineMs`, or at once when the shard is draining.
 */
export class Shard {
  private readonly queue: Queued[] = [];
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
    this.queue.push({ series, ticket });
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

  /** Sends everything queued without waiting for full batches; resolves once all of it is done. */
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
      const { series, tickets, samples } = this.take();
      await this.deliver(series, tickets, samples);
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
  private take(): { series: SeriesSamples[]; tickets: BatchTicket[]; samples: number } {
    const series: SeriesSamples[] = [];
    const tickets: BatchTicket[] = [];
    let samples = 0;
    const max = this.settings.maxSamplesPerSend;
    while (this.head < this.queue.length && samples < max) {
      const next = this.queue[this.head];
      const room = max - samples;
      if (next.series.samples.length <= room) {
        series.push(next.series);
        samples += next.series.samples.length;
        this.head++;
      } else {
        series.push({ ...next.series, samples: next.series.samples.slice(0, room) });
        next.series = { ...next.series, samples: next.series.samples.slice(room) };
        samples += room;
      }
      tickets.push(next.ticket);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.queuedSamples -= samples;
    const waiting = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiting) resolve();
    return { series, tickets, samples };
  }

  /** Sends one request until it gets a 2xx, or hands it to the failure callback. */
  private async deliver(series: SeriesSamples[], tickets: BatchTicket[], samples: number): Promise<void> {
    let body: Uint8Array;
    try {
      body = this.settings.encode(series);
    } catch (err) {
      this.observer.finished(samples, 0, false);
      return this.handOver(series, tickets, err);
    }
    for (let failures = 1; ; failures++) {
      const started = performance.now();
      try {
        await this.settings.send(body);
        this.observer.finished(samples, (performance.now() - started) / 1000, true);
        this.setFailing(false);
        for (let i = 0; i < series.length; i++) tickets[i].finish(series[i].samples.length);
        return;
      } catch (err) {
        if (!isRetriable(err) || failures > this.settings.retry.maxRetries) {
          this.observer.finished(samples, (performance.now() - started) / 1000, false);
          // A refusal means the receiver is up; running out of retries does not.
          if (!isRetriable(err)) this.setFailing(false);
          return this.handOver(series, tickets, err);
        }
        this.setFailing(true);
        this.observer.retrying(samples);
        await sleep(this.retryDelayMs(err, failures));
      }
    }
  }

  private async handOver(series: SeriesSamples[], tickets: BatchTicket[], error: unknown): Promise<void> {
    try {
      await this.settings.onPermanentFailure({ series, error });
      for (let i = 0; i < series.length; i++) tickets[i].finish(series[i].samples.length);
    } catch (handoverError) {
      for (const ticket of tickets) ticket.fail(handoverError);
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
