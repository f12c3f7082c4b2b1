/**
 * The part of a group consumer that does not depend on the library: which partitions this member
 * owns, the order of rebalance hooks, pause/seek bookkeeping, and handing batches to `onBatch` in
 * bounded chunks. Both adapters drive one of these from their library's callbacks, so hook order and
 * batch semantics are the same whichever adapter runs.
 */
import { DownstreamError } from '../../errors.js';
import { kafkaError } from './errors.js';
import { chunkBatch, partitionKey } from './messages.js';
import type { ConsumedMessage, ConsumerHandlers, KafkaAdapterName, RevokeReason, TopicPartition } from './types.js';

type SessionState = 'new' | 'running' | 'crashed' | 'stopping' | 'stopped';

export interface FetchedBatch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: ConsumedMessage[];
}

const byTopicPartition = (a: TopicPartition, b: TopicPartition): number =>
  a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1;

export class GroupSession {
  private handlers: ConsumerHandlers | undefined;
  private state: SessionState = 'new';
  private readonly owned = new Map<string, TopicPartition>();
  private readonly paused = new Set<string>();
  /** Bumped by every seek, so a delivery loop can tell that its position is no longer valid. */
  private readonly seekEpochs = new Map<string, number>();
  /**
   * Where delivery of a partition goes on: after the last batch handed to `onBatch`, or a seek's
   * target. Absent until either happens in this assignment (the library's start position applies).
   */
  private readonly positions = new Map<string, string>();
  /** Rebalance hooks run one after another, and batches wait for them. */
  private hooks: Promise<void> = Promise.resolve();
  private inFlight: Promise<void> = Promise.resolve();
  private resolveFirstAssignment!: () => void;
  private readonly firstAssignment = new Promise<void>((resolve) => (this.resolveFirstAssignment = resolve));

  constructor(
    private readonly adapter: KafkaAdapterName,
    /** Resume these partitions in the library: pauses end when partitions are revoked. */
    private readonly resumeInLibrary: (partitions: TopicPartition[]) => void,
  ) {}

  begin(handlers: ConsumerHandlers): void {
    if (this.state !== 'new') {
      throw new DownstreamError(`kafka (${this.adapter}) consumer cannot start: it is ${this.state}`, { retriable: false });
    }
    this.handlers = handlers;
    this.state = 'running';
  }

  async waitForFirstAssignment(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DownstreamError(`kafka (${this.adapter}) consumer got no assignment within ${timeoutMs} ms`, { retriable: true })),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.firstAssignment, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  assignment(): TopicPartition[] {
    return [...this.owned.values()].sort(byTopicPartition);
  }

  /** Started and not stopping: the library should keep (or get back to) consuming. */
  isActive(): boolean {
    return this.state === 'running' || this.state === 'crashed';
  }

  /** Offsets can be committed: in the group, or stopping but not yet gone. */
  canCommit(): boolean {
    return this.state === 'running' || this.state === 'stopping';
  }

  /** The library joined (again) with this assignment. Eager protocol: anything still owned was lost. */
  assigned(partitions: TopicPartition[]): Promise<void> {
    return this.enqueue(async () => {
      if (this.owned.size > 0) await this.revokeNow([...this.owned.values()], 'lost');
      if (this.state === 'crashed') this.state = 'running';
      for (const tp of partitions) {
        const key = partitionKey(tp.topic, tp.partition);
        this.owned.set(key, { topic: tp.topic, partition: tp.partition });
        this.positions.delete(key);
      }
      await this.runHook('onPartitionsAssigned', () => this.handlers?.onPartitionsAssigned?.(this.assignment()));
      this.resolveFirstAssignment();
    });
  }

  /** Partitions are going away; `partitions` defaults to everything owned. */
  revoked(reason: RevokeReason, partitions?: TopicPartition[]): Promise<void> {
    return this.enqueue(() => this.revokeNow(partitions ?? [...this.owned.values()], reason));
  }

  /** The library's fetch loop died. It may restart and join again; if `permanent`, the consumer is done. */
  crashed(error: DownstreamError, { permanent }: { permanent: boolean }): void {
    if (this.state === 'running' || this.state === 'crashed') this.state = permanent ? 'stopped' : 'crashed';
    this.report(error);
    void this.revoked('lost');
  }

  markPaused(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.add(partitionKey(tp.topic, tp.partition));
  }

  markResumed(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.delete(partitionKey(tp.topic, tp.partition));
  }

  markSeek(topic: string, partition: number, offset: string): void {
    const key = partitionKey(topic, partition);
    this.seekEpochs.set(key, (this.seekEpochs.get(key) ?? 0) + 1);
    this.positions.set(key, offset);
  }

  isPaused(tp: TopicPartition): boolean {
    return this.paused.has(partitionKey(tp.topic, tp.partition));
  }

  owns(tp: TopicPartition): boolean {
    return this.owned.has(partitionKey(tp.topic, tp.partition));
  }

  /** The next offset to hand out for this partition, if anything was handed out or sought since it was assigned. */
  position(tp: TopicPartition): string | undefined {
    return this.positions.get(partitionKey(tp.topic, tp.partition));
  }

  /**
   * Hand a fetched partition batch to `onBatch` in chunks of at most `maxMessages`. After each chunk,
   * `resolve(lastOffset)` tells the library to fetch after it. Stops early (leaving the rest to be
   * fetched again) when the partition is paused, seeked, revoked, or the consumer is stopping.
   */
  async deliver(
    fetched: FetchedBatch,
    maxMessages: number,
    resolve: (offset: string) => void,
    /** The library's own "a seek or pause made this batch obsolete" flag. */
    isStale: () => boolean = () => false,
  ): Promise<void> {
    const key = partitionKey(fetched.topic, fetched.partition);
    // Taken before waiting for hooks: a seek made by an assignment hook must discard this batch.
    const epoch = this.seekEpochs.get(key) ?? 0;
    await this.hooks;
    const stillWanted = () =>
      this.state === 'running' &&
      this.owned.has(key) &&
      !this.paused.has(key) &&
      (this.seekEpochs.get(key) ?? 0) === epoch &&
      !isStale();
    for (const batch of chunkBatch(fetched, maxMessages)) {
      if (!stillWanted()) return;
      // Counted as handed out before the handler runs: a pause made inside it keeps this batch.
      this.positions.set(key, batch.nextOffset);
      const run = this.callOnBatch(batch);
      this.inFlight = run.catch(() => undefined);
      try {
        await run;
      } catch (err) {
        // The library delivers it again, unless the handler sought elsewhere meanwhile.
        if ((this.seekEpochs.get(key) ?? 0) === epoch) this.positions.set(key, batch.messages[0].offset);
        throw err;
      }
      // After a seek the library's position belongs to the seek, not to this batch.
      if ((this.seekEpochs.get(key) ?? 0) !== epoch) return;
      resolve(batch.messages[batch.messages.length - 1].offset);
    }
  }

  /** Stop delivering, let the batch in flight finish, then revoke everything for a clean stop. */
  async drainForStop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasStarted = this.state !== 'new';
    this.state = 'stopping';
    await this.inFlight;
    if (wasStarted) await this.revoked('stop');
  }

  finishStop(): void {
    this.state = 'stopped';
    this.owned.clear();
  }

  report(error: DownstreamError): void {
    try {
      this.handlers?.onError?.(error);
    } catch {
      // An error handler that throws has nowhere to report to; the consumer carries on.
    }
  }

  private async callOnBatch(batch: Parameters<ConsumerHandlers['onBatch']>[0]): Promise<void> {
    try {
      await this.handlers?.onBatch(batch);
    } catch (err) {
      this.report(kafkaError(this.adapter, `onBatch for ${batch.topic}[${batch.partition}]`, err, true));
      throw err;
    }
  }

  private async revokeNow(partitions: TopicPartition[], reason: RevokeReason): Promise<void> {
    const mine = partitions.filter((tp) => this.owned.has(partitionKey(tp.topic, tp.partition))).sort(byTopicPartition);
    if (mine.length === 0) return;
    const wasPaused = mine.filter((tp) => this.paused.has(partitionKey(tp.topic, tp.partition)));
    // Still listed in assignment() while the hook runs, as in the Java client.
    await this.runHook('onPartitionsRevoked', () => this.handlers?.onPartitionsRevoked?.(mine, reason));
    for (const tp of mine) {
      this.owned.delete(partitionKey(tp.topic, tp.partition));
      this.positions.delete(partitionKey(tp.topic, tp.partition));
    }
    if (wasPaused.length > 0 && reason !== 'stop') {
      this.markResumed(wasPaused);
      try {
        this.resumeInLibrary(wasPaused);
      } catch {
        // Already unassigned in the library: nothing left to resume.
      }
    }
  }

  private async runHook(name: string, hook: () => Promise<void> | void): Promise<void> {
    try {
      await hook();
    } catch (err) {
      this.report(kafkaError(this.adapter, `${name} handler`, err, true));
    }
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.hooks.then(step, step);
    this.hooks = next.catch(() => undefined);
    return next;
  }
}
