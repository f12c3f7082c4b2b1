import type { KafkaAdmin } from '../../../clients/kafka/index.js';
import { DownstreamError } from '../../../errors.js';

/**
 * How many partitions a topic has, as a producer that picks partitions itself needs to know: asked
 * of the cluster once, then again in the background every `refreshMs` (partitions may be added),
 * while the last answer keeps serving. Only the first question is waited for; a failed refresh
 * keeps the last answer and is tried again a `refreshMs` later.
 *
 * A larger count is used only once it has been answered for `adoptAfterMs`: a producer's own
 * metadata (kafkajs and librdkafka refresh it every 5 minutes) may not know the new partitions
 * yet, and producing to one it does not know fails. A smaller count (the topic made anew) is used
 * at once.
 */
export class TopicPartitions {
  private count: number | undefined;
  private fetchedAt = 0;
  private pending: Promise<number> | undefined;
  /** A larger count answered, and since when. */
  private larger: { count: number; since: number } | undefined;

  constructor(
    private readonly admin: KafkaAdmin,
    private readonly topic: string,
    private readonly refreshMs: number,
    private readonly onRefreshError: (err: unknown) => void = () => undefined,
    private readonly adoptAfterMs = 6 * 60_000,
  ) {}

  /** The partition count; synchronous (a number) once known, a promise before that. */
  get(now = Date.now()): number | Promise<number> {
    if (this.count !== undefined) {
      if (now - this.fetchedAt >= this.refreshMs && this.pending === undefined) this.fetch(now).catch(this.onRefreshError);
      return this.count;
    }
    return this.pending ?? this.fetch(now);
  }

  private fetch(now: number): Promise<number> {
    // Also on failure: a refresh that fails is tried again a refreshMs later, not on every call.
    this.fetchedAt = now;
    this.pending = this.admin
      .fetchTopicOffsets(this.topic)
      .then((partitions) => {
        if (partitions.length === 0) throw new DownstreamError(`topic ${this.topic} has no partitions (does it exist?)`, { retriable: true });
        return this.answered(partitions.length, now);
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  private answered(count: number, now: number): number {
    if (this.count === undefined || count <= this.count) {
      // The first answer, the same, or fewer (the topic was made anew): used at once.
      this.count = count;
      this.larger = undefined;
    } else if (this.larger?.count !== count) {
      this.larger = { count, since: now };
    } else if (now - this.larger.since >= this.adoptAfterMs) {
      this.count = count;
      this.larger = undefined;
    }
    return this.count;
  }
}
