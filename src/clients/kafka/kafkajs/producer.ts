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
    await this.withinSendTimeout(topic, () =>
      this.producer.send({
        topic,
        acks: -1,
        timeout: this.options.sendTimeoutMs,
        compression: this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: messages.map((m) => ({
          key: m.key,
          value: m.value,
          headers: m.headers ?? options?.headers,
          partition: m.partition,
          timestamp: m.timestamp === undefined ? undefined : String(m.timestamp),
        })),
      }),
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
