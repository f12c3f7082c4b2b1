import kafkajs from 'kafkajs';
import type { Kafka, Producer, RetryOptions } from 'kafkajs';
import { DownstreamError } from '../../../errors.js';
import type { ResolvedProducerOptions } from '../config.js';
import type { KafkaProducer, OutgoingMessage, SendOptions } from '../types.js';
import { kafkajsCall } from './errors.js';

const { CompressionTypes, Partitioners } = kafkajs;

export class KafkajsProducer implements KafkaProducer {
  private readonly producer: Producer;
  private connecting: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly options: ResolvedProducerOptions,
    retry: RetryOptions,
  ) {
    this.producer = kafka.producer({
      idempotent: options.idempotent,
      // kafkajs only guarantees idempotent ordering with one request in flight per broker.
      maxInFlightRequests: options.idempotent ? 1 : undefined,
      allowAutoTopicCreation: false,
      // Java-compatible murmur2, the same partition for a key as the confluent adapter picks.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry,
    });
  }

  connect(): Promise<void> {
    this.connecting ??= kafkajsCall('producer connect', () => this.producer.connect()).catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  async send(topic: string, messages: readonly OutgoingMessage[], options?: SendOptions): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    // kafkajs puts all of a send's messages for one partition into one record batch, and the broker
    // refuses a batch past its max.message.bytes (1 MiB by default): big sends go as several.
    await Promise.all(
      underBatchLimit(messages).map((part) =>
        this.withinSendTimeout(topic, () =>
          this.producer.send({
            topic,
            acks: -1,
            timeout: this.options.sendTimeoutMs,
            compression: this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
            messages: part.map((m) => ({
              key: m.key,
              value: m.value,
              headers: m.headers ?? options?.headers,
              partition: m.partition,
              timestamp: m.timestamp === undefined ? undefined : String(m.timestamp),
            })),
          }),
        ),
      ),
    );
  }

  /**
   * kafkajs' `timeout` is only the broker's wait for replicas; its retries add to it. Bound the whole
   * send like librdkafka's message.timeout.ms does. As there, a send that timed out may still land.
   */
  private async withinSendTimeout(topic: string, send: () => Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DownstreamError(`kafka (kafkajs) send to ${topic} failed: no acknowledgement within ${this.options.sendTimeoutMs} ms`)),
        this.options.sendTimeoutMs,
      );
    });
    try {
      await Promise.race([kafkajsCall(`send to ${topic}`, send), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async disconnect(): Promise<void> {
    this.connecting = undefined;
    await kafkajsCall('producer disconnect', () => this.producer.disconnect());
  }
}

/** Bytes of one partition's messages a single kafkajs send may carry: under the broker's default 1 MiB batch limit. */
export const KAFKAJS_BATCH_BYTES = 768 * 1024;

/**
 * The messages in order, cut into sends that carry at most KAFKAJS_BATCH_BYTES (keys and values)
 * for any one partition; messages without a partition count together. A message larger than that
 * goes in a send of its own.
 */
export function underBatchLimit(messages: readonly OutgoingMessage[], limit = KAFKAJS_BATCH_BYTES): Array<readonly OutgoingMessage[]> {
  const parts: OutgoingMessage[][] = [];
  let part: OutgoingMessage[] = [];
  let bytes = new Map<number, number>();
  for (const m of messages) {
    const size = m.value.length + (m.key?.length ?? 0);
    const partition = m.partition ?? -1;
    const used = bytes.get(partition) ?? 0;
    if (used > 0 && used + size > limit) {
      parts.push(part);
      part = [];
      bytes = new Map();
    }
    part.push(m);
    bytes.set(partition, (bytes.get(partition) ?? 0) + size);
  }
  parts.push(part);
  return parts.length === 1 ? [messages] : parts;
}
