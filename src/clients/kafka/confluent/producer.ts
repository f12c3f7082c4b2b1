import type { ResolvedProducerOptions } from '../config.js';
import type { KafkaProducer, OutgoingMessage } from '../types.js';
import type { ConfluentKafka, ConfluentProducer as LibraryProducer } from './api.js';
import type { ConfluentErrorMapper } from './errors.js';

export class ConfluentProducer implements KafkaProducer {
  private readonly producer: LibraryProducer;
  private connecting: Promise<void> | undefined;

  constructor(
    kafka: ConfluentKafka,
    options: ResolvedProducerOptions,
    private readonly mapError: ConfluentErrorMapper,
  ) {
    this.producer = kafka.producer({
      kafkaJS: {
        acks: -1,
        idempotent: options.idempotent,
        // The library's CompressionTypes values are these same names ('none', 'gzip', ...). Its .d.ts
        // spells a key `Snappy` where the runtime has `SNAPPY`, so the enum is not used.
        compression: options.compression,
        allowAutoTopicCreation: false,
      },
      // librdkafka fails a message that is not acknowledged within this time, retries included.
      'message.timeout.ms': options.sendTimeoutMs,
      // One send is one batch of hundreds: do not wait for more to arrive before sending it.
      'linger.ms': 0,
    });
  }

  connect(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw this.mapError('producer connect', err);
    });
    return this.connecting;
  }

  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    try {
      // Resolves when every message has its delivery report, i.e. after acks=all.
      await this.producer.send({
        topic,
        messages: messages.map((m) => ({
          key: m.key,
          value: m.value,
          headers: m.headers,
          partition: m.partition,
          timestamp: m.timestamp === undefined ? undefined : String(m.timestamp),
        })),
      });
    } catch (err) {
      throw this.mapError(`send to ${topic}`, err);
    }
  }

  async disconnect(): Promise<void> {
    this.connecting = undefined;
    try {
      await this.producer.disconnect();
    } catch (err) {
      throw this.mapError('producer disconnect', err);
    }
  }
}
