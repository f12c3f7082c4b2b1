import type {
  ConsumedBatch,
  ConsumerHandlers,
  ConsumerOptions,
  CreateTopicOptions,
  KafkaAdmin,
  KafkaClient,
  KafkaConsumer,
  PartitionOffset,
  PartitionWatermarks,
  RevokeReason,
  TopicPartition,
  TopicPartitionOffset,
} from '../../../clients/kafka/index.js';
import type { KafkaResource } from '../../../resources/kafka.js';

/**
 * A Kafka cluster for the Kafka source's unit tests: the test plays the group coordinator and the
 * fetcher (assign, revoke, hand over batches), and reads back what the source asked for (commits,
 * seeks, pauses). Nothing here knows about weir's pipeline.
 */

/** Records [first, first + count) of a partition as one fetched batch. */
export function recordBatch(topic: string, partition: number, first: number, count: number): ConsumedBatch {
  const messages = Array.from({ length: count }, (_, i) => ({ offset: String(first + i), key: null, value: Buffer.from(`record ${first + i}`), headers: {}, timestamp: 1_800_000_000_000 + first + i }));
  return { topic, partition, messages, highWatermark: String(first + count), nextOffset: String(first + count) };
}

export class FakeConsumer implements KafkaConsumer {
  /** What the source asked for when it made the consumer. */
  options?: ConsumerOptions;
  /** Commits that went through, in order. */
  readonly commits: TopicPartitionOffset[] = [];
  readonly seeks: TopicPartitionOffset[] = [];
  /** Partitions paused now. */
  readonly paused = new Set<number>();
  stopped = false;
  /** While set, commits wait for it (a broker that does not answer). */
  commitGate?: Promise<void>;
  /** Resolves once `start` handled the first assignment. */
  readonly started: Promise<void>;
  private handlers?: ConsumerHandlers;
  private assigned: TopicPartition[] = [];
  private markStarted!: () => void;

  constructor(
    private readonly topic: string,
    private readonly firstAssignment: number[],
  ) {
    this.started = new Promise((resolve) => (this.markStarted = resolve));
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    this.handlers = handlers;
    await this.assign(this.firstAssignment);
    this.markStarted();
  }

  /** A rebalance gave this member these partitions (pauses end there, as in Kafka). */
  async assign(partitions: number[]): Promise<void> {
    this.assigned = partitions.map((partition) => ({ topic: this.topic, partition }));
    this.paused.clear();
    await this.running().onPartitionsAssigned?.(this.assignment());
  }

  /** A rebalance (or a lost session) takes these partitions away; resolves when the source's hook does. */
  async revoke(partitions: number[], reason: RevokeReason = 'rebalance'): Promise<void> {
    await this.running().onPartitionsRevoked?.(partitions.map((partition) => ({ topic: this.topic, partition })), reason);
    this.assigned = this.assigned.filter((tp) => !partitions.includes(tp.partition));
  }

  /** Hand over records [first, first + count) of a partition, as a fetch would. */
  fetch(partition: number, first: number, count: number): Promise<void> {
    return this.running().onBatch(recordBatch(this.topic, partition, first, count));
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    await this.commitGate;
    this.commits.push(...offsets);
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.add(tp.partition);
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.delete(tp.partition);
  }

  seek(topic: string, partition: number, offset: string): void {
    if (!this.assigned.some((tp) => tp.partition === partition)) throw new Error(`partition ${partition} is not assigned`);
    this.seeks.push({ topic, partition, offset });
  }

  assignment(): TopicPartition[] {
    return this.assigned.map((tp) => ({ ...tp }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  private running(): ConsumerHandlers {
    if (this.handlers === undefined) throw new Error('the source has not started the consumer');
    return this.handlers;
  }
}

export class FakeAdmin implements KafkaAdmin {
  readonly created: Array<{ topic: string; options?: CreateTopicOptions }> = [];
  /** The times `offsetsForTimes` was asked about. */
  readonly timesAsked: number[] = [];

  constructor(
    /** Watermarks per topic: a topic is there when it has an entry. */
    readonly topics: Map<string, PartitionWatermarks[]>,
    /** What `offsetsForTimes` answers; the high watermarks unless given. */
    private readonly offsetsAt?: (timestamp: number) => PartitionOffset[],
  ) {}

  async connect(): Promise<void> {}

  async createTopic(topic: string, options?: CreateTopicOptions): Promise<boolean> {
    this.created.push({ topic, options });
    if (this.topics.has(topic)) return false;
    this.topics.set(topic, Array.from({ length: options?.partitions ?? 1 }, (_, partition) => ({ partition, low: '0', high: '0' })));
    return true;
  }

  async listTopics(): Promise<string[]> {
    return [...this.topics.keys()];
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionWatermarks[]> {
    const watermarks = this.topics.get(topic);
    if (watermarks === undefined) throw new Error(`no topic ${topic}`);
    return watermarks.map((w) => ({ ...w }));
  }

  async offsetsForTimes(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    this.timesAsked.push(timestamp);
    return this.offsetsAt?.(timestamp) ?? (await this.fetchTopicOffsets(topic)).map((w) => ({ partition: w.partition, offset: w.high }));
  }

  async deleteTopic(topic: string): Promise<void> {
    this.topics.delete(topic);
  }

  async disconnect(): Promise<void> {}
}

export interface FakeKafka {
  /** What a `kafka` resource gives the stages. */
  resource: KafkaResource;
  consumer: FakeConsumer;
  admin: FakeAdmin;
}

/**
 * One topic of `partitions` partitions (watermarks low..high per partition, `'0'..'0'` unless given),
 * all of them assigned to the consumer once it starts unless `assigned` says otherwise.
 */
export function fakeKafka(options: { topic: string; partitions: number | PartitionWatermarks[]; assigned?: number[]; topicExists?: boolean; offsetsAt?: (timestamp: number) => PartitionOffset[] }): FakeKafka {
  const watermarks = typeof options.partitions === 'number' ? Array.from({ length: options.partitions }, (_, partition) => ({ partition, low: '0', high: '0' })) : options.partitions;
  const admin = new FakeAdmin(new Map(options.topicExists === false ? [] : [[options.topic, watermarks]]), options.offsetsAt);
  const consumer = new FakeConsumer(options.topic, options.assigned ?? watermarks.map((w) => w.partition));
  const notFaked = (): never => {
    throw new Error('the fake Kafka has no producer');
  };
  const client: KafkaClient = {
    adapter: 'kafkajs',
    capabilities: { compression: ['none'], revokeBlocksRebalance: false },
    producer: notFaked,
    consumer: () => consumer,
    admin: () => admin,
  };
  const resource: KafkaResource = {
    client,
    producer: notFaked,
    consumer(consumerOptions) {
      consumer.options = consumerOptions;
      return consumer;
    },
    admin: () => admin,
    close: () => consumer.stop(),
  };
  return { resource, consumer, admin };
}
