/**
 * The slice of `@confluentinc/kafka-javascript`'s KafkaJS-compatible API that weir uses, written out
 * here because the package is optional: weir must type-check where it is not installed.
 */
import type { LibraryMessage } from '../messages.js';

export interface ConfluentLogger {
  error(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  info(message: string, extra?: object): void;
  debug(message: string, extra?: object): void;
  namespace(name?: string): ConfluentLogger;
  setLogLevel(level: number): void;
}

export interface ConfluentKafkaJS {
  Kafka: new (config: Record<string, unknown>) => ConfluentKafka;
  logLevel: { NOTHING: number; ERROR: number; WARN: number; INFO: number; DEBUG: number };
  ErrorCodes: Record<string, number>;
}

export interface ConfluentKafka {
  producer(config: Record<string, unknown>): ConfluentProducer;
  consumer(config: Record<string, unknown>): ConfluentConsumer;
  admin(config?: Record<string, unknown>): ConfluentAdmin;
}

interface Connectable {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConfluentOutgoingMessage {
  key: Buffer;
  value: Buffer;
  partition?: number;
  headers?: Record<string, Buffer | string>;
  timestamp?: string;
}

export interface ConfluentProducer extends Connectable {
  send(record: { topic: string; messages: ConfluentOutgoingMessage[] }): Promise<unknown[]>;
}

export interface ConfluentTopicPartition {
  topic: string;
  partition: number;
}

export interface ConfluentEachBatchPayload {
  batch: { topic: string; partition: number; highWatermark: string; messages: LibraryMessage[] };
  resolveOffset(offset: string): void;
  isStale(): boolean;
}

export interface ConfluentConsumer extends Connectable {
  subscribe(subscription: { topics: string[] }): Promise<void>;
  run(config: {
    eachBatch: (payload: ConfluentEachBatchPayload) => Promise<void>;
    eachBatchAutoResolve: boolean;
    partitionsConsumedConcurrently: number;
  }): Promise<void>;
  commitOffsets(offsets: Array<ConfluentTopicPartition & { offset: string }>): Promise<void>;
  seek(target: ConfluentTopicPartition & { offset: string }): void;
  pause(topics: Array<{ topic: string; partitions: number[] }>): void;
  resume(topics: Array<{ topic: string; partitions: number[] }>): void;
}

/** The third argument of a user `rebalance_cb` in the promisified API. */
export interface ConfluentAssignmentFns {
  assign(partitions: ConfluentTopicPartition[]): void;
  assignmentLost(): boolean;
}

export type ConfluentRebalanceCallback = (
  err: { code: number; message: string },
  assignment: ConfluentTopicPartition[],
  fns?: ConfluentAssignmentFns,
) => Promise<void>;

export interface ConfluentAdmin extends Connectable {
  createTopics(options: {
    timeout?: number;
    topics: Array<{ topic: string; numPartitions: number; replicationFactor: number; configEntries: { name: string; value: string }[] }>;
  }): Promise<boolean>;
  listTopics(options?: { timeout?: number }): Promise<string[]>;
  fetchTopicMetadata(options: { topics: string[]; timeout?: number }): Promise<
    Array<{ name: string; partitions: Array<{ partitionId: number; leader: number }> }>
  >;
  fetchTopicOffsets(topic: string, options?: { timeout?: number }): Promise<Array<{ partition: number; low: string; high: string }>>;
  fetchTopicOffsetsByTimestamp(
    topic: string,
    timestamp: number,
    options?: { timeout?: number },
  ): Promise<Array<{ partition: number; offset: string }>>;
  deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void>;
}

/** A librdkafka error as the callback API reports it. */
export interface RdKafkaError {
  message: string;
  code: number;
  isFatal?: boolean;
  isRetriable?: boolean;
}

/** `Producer` of the callback API: one native call per message, delivery reports as events. */
export interface RdKafkaProducer {
  connect(metadataOptions: object | null, callback: (err: RdKafkaError | null) => void): void;
  /** Throws when the message cannot be queued (queue full, unknown topic with auto-creation off...). */
  produce(topic: string, partition: number, value: Buffer, key: Buffer | null, timestamp: number, opaque: unknown, headers: Array<Record<string, Buffer | string>> | undefined): unknown;
  setPollInBackground(enabled: boolean): void;
  flush(timeoutMs: number, callback: (err: RdKafkaError | null) => void): void;
  disconnect(callback: (err: RdKafkaError | null) => void): void;
  on(event: 'delivery-report', listener: (err: RdKafkaError | null, report: { opaque?: unknown; topic: string; partition: number }) => void): this;
  on(event: 'event.error', listener: (err: RdKafkaError) => void): this;
  on(event: 'event.log', listener: (log: { severity: number; fac: string; message: string }) => void): this;
}

export type RdKafkaProducerConstructor = new (config: Record<string, unknown>) => RdKafkaProducer;
