import type { GroupSession } from './group-session.js';
import type { ConsumerHandlers, KafkaConsumer, TopicPartition, TopicPartitionOffset } from './types.js';

/** What both libraries' consumers offer for flow control (confluent's API is KafkaJS-compatible). */
export interface PartitionControls {
  pause(topics: Array<{ topic: string; partitions: number[] }>): void;
  resume(topics: Array<{ topic: string; partitions: number[] }>): void;
  seek(target: { topic: string; partition: number; offset: string }): void;
}

export function byTopic(partitions: TopicPartition[]): { topic: string; partitions: number[] }[] {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) grouped.set(topic, [...(grouped.get(topic) ?? []), partition]);
  return [...grouped].map(([topic, list]) => ({ topic, partitions: list }));
}

/**
 * What the two adapters share: the group session's bookkeeping around pause, resume and seek, and
 * the start/stop lifecycle. Each adapter says how it joins and leaves its group, commits, and maps
 * its library's errors.
 */
export abstract class GroupConsumer implements KafkaConsumer {
  protected abstract readonly consumer: PartitionControls;
  protected abstract readonly session: GroupSession;
  private stopping: Promise<void> | undefined;

  protected abstract joinGroup(): Promise<void>;
  protected abstract leaveGroup(): Promise<void>;
  /** Run a synchronous library call, turning its errors into weir's. */
  protected abstract sync(operation: string, call: () => void): void;
  abstract commit(offsets: TopicPartitionOffset[]): Promise<void>;

  async start(handlers: ConsumerHandlers): Promise<void> {
    this.session.begin(handlers);
    try {
      await this.joinGroup();
    } catch (err) {
      // A consumer that failed to start is stopped: make a new one to try again.
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  pause(partitions: TopicPartition[]): void {
    if (partitions.length === 0) return;
    this.session.markPaused(partitions);
    this.sync('pause', () => this.pauseInLibrary(partitions));
  }

  resume(partitions: TopicPartition[]): void {
    if (partitions.length === 0) return;
    this.session.markResumed(partitions);
    this.sync('resume', () => this.resumeInLibrary(partitions));
  }

  seek(topic: string, partition: number, offset: string): void {
    this.session.markSeek(topic, partition, offset);
    this.sync(`seek ${topic}[${partition}] to ${offset}`, () => this.consumer.seek({ topic, partition, offset }));
  }

  /** Stop the library fetching these partitions (the session already counts them as paused). */
  protected pauseInLibrary(partitions: TopicPartition[]): void {
    this.consumer.pause(byTopic(partitions));
  }

  protected resumeInLibrary(partitions: TopicPartition[]): void {
    this.consumer.resume(byTopic(partitions));
  }

  assignment(): TopicPartition[] {
    return this.session.assignment();
  }

  stop(): Promise<void> {
    this.stopping ??= this.leaveGroup();
    return this.stopping;
  }
}
