/**
 * The narrow Kafka port weir's stages use. Two adapters implement it (kafkajs, and Confluent's
 * librdkafka binding); `test/kafka/conformance.test.ts` runs the same checks against both.
 *
 * Offsets are decimal strings because Kafka offsets are int64. A committed offset is, as everywhere in
 * Kafka, the offset of the *next* message to read: commit `batch.nextOffset` once a batch is done.
 */
import type { DownstreamError } from '../../errors.js';
import type { ConsumerOptions, ProducerOptions } from './config.js';

export type KafkaAdapterName = 'kafkajs' | 'confluent';
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: string;
}

export interface OutgoingMessage {
  /** null: no key (then give `partition`, or the adapter spreads messages over partitions). */
  key: Buffer | null;
  value: Buffer;
  headers?: Record<string, Buffer | string>;
  /** Pin the partition. Otherwise the key picks it with murmur2, as the Java client does (both adapters agree). */
  partition?: number;
  /** CreateTime in ms since the epoch; the producer's clock when absent. */
  timestamp?: number;
}

export interface ConsumedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** A header sent more than once keeps its last value. */
  headers: Record<string, Buffer>;
  /** CreateTime (or LogAppendTime, if the topic says so) in ms since the epoch. */
  timestamp: number;
}

/** Messages of one partition, in offset order, never empty. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  /** The partition's end offset when the batch was fetched ("-1" if the adapter could not tell). */
  highWatermark: string;
  /** What to commit once every message of this batch is durably processed: last offset + 1. */
  nextOffset: string;
}

export interface SendOptions {
  /** Headers for every message of the send that has none of its own (converted once per send, not per message). */
  headers?: Record<string, Buffer | string>;
}

export interface KafkaProducer {
  /** Optional: `send` connects on first use. */
  connect(): Promise<void>;
  /**
   * Send one batch. Resolves only when every message is acknowledged by all in-sync replicas
   * (acks=all); rejects with a `DownstreamError` otherwise, after the adapter's own retries.
   */
  send(topic: string, messages: readonly OutgoingMessage[], options?: SendOptions): Promise<void>;
  disconnect(): Promise<void>;
}

/** Why partitions are being taken away. `lost`: the group already moved on, commits for them will fail. */
export type RevokeReason = 'rebalance' | 'stop' | 'lost';

export interface ConsumerHandlers {
  /**
   * One batch at a time, across all partitions. Offsets are never committed for you: call
   * `consumer.commit` when the batch's effects are durable. If it throws, the batch is delivered again
   * after the adapter's backoff, and `onError` hears about it.
   */
  onBatch(batch: ConsumedBatch): Promise<void>;
  /** The new assignment, after a rebalance completes; no batch is delivered before this returns. */
  onPartitionsAssigned?(partitions: TopicPartition[]): Promise<void> | void;
  /**
   * Partitions are about to go to another member (eager rebalancing: all of them), or the consumer
   * is stopping. Flush and `commit` here: see `KafkaClient.capabilities.revokeBlocksRebalance` for
   * whether the group waits for this to finish.
   */
  onPartitionsRevoked?(partitions: TopicPartition[], reason: RevokeReason): Promise<void> | void;
  /** Failures that belong to no call: a crashed fetch loop, a throwing handler. */
  onError?(error: DownstreamError): void;
}

export interface KafkaConsumer {
  /** Connect, subscribe, join the group; resolves once the first assignment has been handled. */
  start(handlers: ConsumerHandlers): Promise<void>;
  /** Commit "next offset to read" per partition. Throws a retriable `DownstreamError` while not in the group. */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Stop fetching these partitions; batches already handed out finish. Pauses end at a rebalance. */
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** Read this assigned partition from `offset` on; any rest of a batch in flight is dropped. */
  seek(topic: string, partition: number, offset: string): void;
  assignment(): TopicPartition[];
  /** Revoke (handlers flush and commit), leave the group, disconnect. */
  stop(): Promise<void>;
}

export interface CreateTopicOptions {
  partitions?: number;
  replicationFactor?: number;
  /** Topic-level configs, e.g. `{ 'retention.ms': '3600000' }`. */
  config?: Record<string, string>;
}

export interface PartitionWatermarks {
  partition: number;
  /** Log start offset. */
  low: string;
  /** High watermark: the offset the next message will get. */
  high: string;
}

export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface KafkaAdmin {
  /** Optional: every call connects on first use. */
  connect(): Promise<void>;
  /** Resolves once every partition has a leader. False if the topic already existed. */
  createTopic(topic: string, options?: CreateTopicOptions): Promise<boolean>;
  listTopics(): Promise<string[]>;
  /** Per partition, sorted by partition. */
  fetchTopicOffsets(topic: string): Promise<PartitionWatermarks[]>;
  /**
   * Per partition, the first offset whose timestamp is >= `timestamp` (ms), or the high watermark
   * where there is none. Feed these to `consumer.seek` to replay from a point in time.
   */
  offsetsForTimes(topic: string, timestamp: number): Promise<PartitionOffset[]>;
  /** Also resolves when there was no such topic. */
  deleteTopic(topic: string): Promise<void>;
  disconnect(): Promise<void>;
}

export interface KafkaCapabilities {
  compression: readonly KafkaCompression[];
  /**
   * True when the group waits for `onPartitionsRevoked` before moving partitions (confluent). kafkajs
   * only waits when it notices the rebalance while a batch is being handled; when idle it rejoins
   * at once, so a commit made in the hook may land after the new owner read the old offset.
   */
  revokeBlocksRebalance: boolean;
}

export interface KafkaClient {
  readonly adapter: KafkaAdapterName;
  readonly capabilities: KafkaCapabilities;
  producer(options?: ProducerOptions): KafkaProducer;
  consumer(options: ConsumerOptions): KafkaConsumer;
  admin(): KafkaAdmin;
}
