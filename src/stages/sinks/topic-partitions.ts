import type { KafkaAdmin } from '../../clients/kafka/index.js';
import { DownstreamError } from '../../errors.js';

/**
 * How many partitions a topic has, as a producer that picks partitions itself needs to know: asked
 * of the cluster once, then again in the background every `refreshMs` (partitions may be added),
 * while the last answer keeps serving. Only the first question is waited for; a failed refresh
 * keeps the last answer.
 */
export class TopicPartitions {
  private count: number | undefined;
  private fetchedAt = 0;
  private pending: Promise<number> | undefined;

  constructor(
    private readonly admin: KafkaAdmin,
    private readonly topic: string,
    private readonly refreshMs: number,
    private readonly onRefreshError: (err: unknown) => void = () => undefined,
  ) {}

  /** The partition count; synchronous (a number) once known and fresh, a promise before that. */
  get(now = Date.now()): number | Promise<number> {
    if (this.count !== undefined) {
      if (now - this.fetchedAt >= this.refreshMs && this.pending === undefined) this.fetch(now).catch(this.onRefreshError);
      return this.count;
    }
    return this.pending ?? this.fetch(now);
  }

  private fetch(now: number): Promise<number> {
    this.pending = this.admin
      .fetchTopicOffsets(this.topic)
      .then((partitions) => {
        if (partitions.length === 0) throw new DownstreamError(`topic ${this.topic} has no partitions (does it exist?)`, { retriable: true });
        this.count = partitions.length;
        this.fetchedAt = now;
        return this.count;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
