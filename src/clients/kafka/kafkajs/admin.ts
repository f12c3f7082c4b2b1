import type { Admin, Kafka } from 'kafkajs';
import type { CreateTopicOptions, KafkaAdmin, PartitionOffset, PartitionWatermarks } from '../types.js';
import { kafkajsCall } from './errors.js';

const byPartition = (a: { partition: number }, b: { partition: number }) => a.partition - b.partition;

export class KafkajsAdmin implements KafkaAdmin {
  private readonly admin: Admin;
  private connecting: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly timeoutMs: number,
  ) {
    this.admin = kafka.admin();
  }

  connect(): Promise<void> {
    this.connecting ??= kafkajsCall('admin connect', () => this.admin.connect()).catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  async createTopic(topic: string, options: CreateTopicOptions = {}): Promise<boolean> {
    await this.connect();
    return kafkajsCall(`create topic ${topic}`, () =>
      this.admin.createTopics({
        waitForLeaders: true,
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
  }

  async listTopics(): Promise<string[]> {
    await this.connect();
    return (await kafkajsCall('list topics', () => this.admin.listTopics())).sort();
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionWatermarks[]> {
    await this.connect();
    const offsets = await kafkajsCall(`fetch offsets of ${topic}`, () => this.admin.fetchTopicOffsets(topic));
    return offsets.map(({ partition, low, high }) => ({ partition, low, high })).sort(byPartition);
  }

  async offsetsForTimes(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    await this.connect();
    // kafkajs already substitutes the high watermark where no message is that recent.
    const offsets = await kafkajsCall(`offsets for time ${timestamp} in ${topic}`, () =>
      this.admin.fetchTopicOffsetsByTimestamp(topic, timestamp),
    );
    return offsets.map(({ partition, offset }) => ({ partition, offset })).sort(byPartition);
  }

  async deleteTopic(topic: string): Promise<void> {
    // Deleting what is not there succeeds; kafkajs would otherwise retry UNKNOWN_TOPIC for its whole retry budget.
    if (!(await this.listTopics()).includes(topic)) return;
    await kafkajsCall(`delete topic ${topic}`, () => this.admin.deleteTopics({ topics: [topic], timeout: this.timeoutMs }));
  }

  async disconnect(): Promise<void> {
    this.connecting = undefined;
    await kafkajsCall('admin disconnect', () => this.admin.disconnect());
  }
}
