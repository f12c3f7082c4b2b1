import { setTimeout as sleep } from 'node:timers/promises';
import { DownstreamError } from '../../../errors.js';
import type { CreateTopicOptions, KafkaAdmin, PartitionOffset, PartitionWatermarks } from '../types.js';
import type { ConfluentKafka, ConfluentAdmin as LibraryAdmin } from './api.js';
import type { ConfluentErrorMapper } from './errors.js';

const byPartition = (a: { partition: number }, b: { partition: number }) => a.partition - b.partition;

export class ConfluentAdmin implements KafkaAdmin {
  private readonly admin: LibraryAdmin;
  private connecting: Promise<void> | undefined;

  constructor(
    kafka: ConfluentKafka,
    private readonly timeoutMs: number,
    private readonly mapError: ConfluentErrorMapper,
  ) {
    this.admin = kafka.admin();
  }

  connect(): Promise<void> {
    this.connecting ??= this.admin.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw this.mapError('admin connect', err);
    });
    return this.connecting;
  }

  async createTopic(topic: string, options: CreateTopicOptions = {}): Promise<boolean> {
    const created = await this.call(`create topic ${topic}`, () =>
      this.admin.createTopics({
        timeout: this.timeoutMs,
        topics: [
          {
            topic,
            numPartitions: options.partitions ?? 1,
            replicationFactor: options.replicationFactor ?? 1,
            configEntries: Object.entries(options.config ?? {}).map(([name, value]) => ({ name, value })),
          },
        ],
      }),
    );
    await this.waitForLeaders(topic);
    return created;
  }

  async listTopics(): Promise<string[]> {
    return (await this.call('list topics', () => this.admin.listTopics({ timeout: this.timeoutMs }))).sort();
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionWatermarks[]> {
    const offsets = await this.call(`fetch offsets of ${topic}`, () =>
      this.admin.fetchTopicOffsets(topic, { timeout: this.timeoutMs }),
    );
    return offsets.map(({ partition, low, high }) => ({ partition, low, high })).sort(byPartition);
  }

  async offsetsForTimes(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    // The library substitutes the high watermark where no message is that recent, as kafkajs does.
    const offsets = await this.call(`offsets for time ${timestamp} in ${topic}`, () =>
      this.admin.fetchTopicOffsetsByTimestamp(topic, timestamp, { timeout: this.timeoutMs }),
    );
    return offsets.map(({ partition, offset }) => ({ partition, offset })).sort(byPartition);
  }

  async deleteTopic(topic: string): Promise<void> {
    // Deleting what is not there succeeds, as in the kafkajs adapter.
    if (!(await this.listTopics()).includes(topic)) return;
    await this.call(`delete topic ${topic}`, () => this.admin.deleteTopics({ topics: [topic], timeout: this.timeoutMs }));
  }

  async disconnect(): Promise<void> {
    this.connecting = undefined;
    try {
      await this.admin.disconnect();
    } catch (err) {
      throw this.mapError('admin disconnect', err);
    }
  }

  /** The library cannot wait for leaders (kafkajs can); without this a send right after creation may fail. */
  private async waitForLeaders(topic: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const metadata = await this.call(`describe topic ${topic}`, () =>
        this.admin.fetchTopicMetadata({ topics: [topic], timeout: this.timeoutMs }),
      ).catch(() => []);
      const partitions = metadata[0]?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
      if (Date.now() > deadline) {
        throw new DownstreamError(`kafka (confluent) create topic ${topic}: partitions have no leader after ${this.timeoutMs} ms`);
      }
      await sleep(100);
    }
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    await this.connect();
    try {
      return await fn();
    } catch (err) {
      throw this.mapError(operation, err);
    }
  }
}
