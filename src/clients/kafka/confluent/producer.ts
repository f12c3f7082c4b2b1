import type { ResolvedClientConfig, ResolvedProducerOptions } from '../config.js';
import type { KafkaProducer, OutgoingMessage, SendOptions } from '../types.js';
import type { RdKafkaError, RdKafkaProducer, RdKafkaProducerConstructor } from './api.js';
import { DownstreamError } from '../../../errors.js';
import type { ConfluentErrorMapper } from './errors.js';

/** One `send`: how many delivery reports it still waits for. */
interface PendingSend {
  left: number;
  settled: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

type RdKafkaHeaders = Array<Record<string, Buffer | string>>;

/**
 * The library's header shape (a list of one-entry objects); none for no or empty headers, which
 * spares the binding its per-message header walk.
 */
function rdKafkaHeaders(headers: OutgoingMessage['headers']): RdKafkaHeaders | undefined {
  if (headers === undefined) return undefined;
  const list = Object.entries(headers).map(([name, value]) => ({ [name]: value }));
  return list.length === 0 ? undefined : list;
}

/** librdkafka's syslog severities: 0-3 error, 4 warning, 5-6 info, 7 debug. */
const severityLevel = (severity: number) => (severity <= 3 ? 'error' : severity === 4 ? 'warn' : severity <= 6 ? 'info' : 'debug');

/**
 * The confluent producer on the library's callback API rather than its KafkaJS layer, which costs
 * a promise, an opaque object and a header conversion per message and bookkeeping per report: on
 * the new-series path that was a third of the producer's CPU. Here a send is one shared opaque
 * object counting its delivery reports, and a header object shared by a batch is converted once.
 */
export class ConfluentProducer implements KafkaProducer {
  private readonly producer: RdKafkaProducer;
  private connecting: Promise<void> | undefined;
  private lastError: RdKafkaError | undefined;
  private headersFrom: OutgoingMessage['headers'];
  private headersTo: RdKafkaHeaders | undefined;
  /** Sends waiting for delivery reports: failed on disconnect if the reports never come. */
  private readonly unsettled = new Set<PendingSend>();

  constructor(
    Producer: RdKafkaProducerConstructor,
    client: ResolvedClientConfig,
    options: ResolvedProducerOptions,
    private readonly mapError: ConfluentErrorMapper,
  ) {
    this.producer = new Producer({
      'bootstrap.servers': client.brokers.join(','),
      'client.id': client.clientId,
      'socket.connection.setup.timeout.ms': Math.max(1000, client.connectionTimeoutMs),
      'socket.timeout.ms': client.requestTimeoutMs,
      acks: -1,
      'enable.idempotence': options.idempotent,
      'compression.codec': options.compression,
      'allow.auto.create.topics': false,
      // Java-compatible murmur2, the same partition for a key as the kafkajs adapter picks.
      partitioner: 'murmur2_random',
      // librdkafka fails a message that is not acknowledged within this time, retries included.
      'message.timeout.ms': options.sendTimeoutMs,
      // Sends made within this time go out as one produce request per broker: concurrent batches
      // share requests, which costs the broker (and librdkafka) far less per message.
      'linger.ms': options.lingerMs,
      dr_cb: true,
      event_cb: true,
      log_level: client.logLevel === 'debug' ? 7 : client.logLevel === 'info' ? 6 : 4,
    });
    this.producer.on('delivery-report', (err, report) => this.delivered(err, report.opaque as PendingSend | undefined));
    this.producer.on('event.error', (err) => {
      this.lastError = err;
      if (client.logLevel !== 'nothing') client.logger.warn({ lib: 'librdkafka', code: err.code }, `producer: ${err.message}`);
    });
    this.producer.on('event.log', (log) => {
      const level = severityLevel(log.severity);
      const rank = { error: 1, warn: 2, info: 3, debug: 4 }[level];
      const wanted = { nothing: 0, error: 1, warn: 2, info: 3, debug: 4 }[client.logLevel];
      if (rank <= wanted) client.logger[level]({ lib: 'librdkafka', fac: log.fac }, log.message);
    });
  }

  connect(): Promise<void> {
    this.connecting ??= new Promise<void>((resolve, reject) => {
      this.producer.connect(null, (err) => {
        if (err) return reject(this.mapError('producer connect', this.lastError ?? err));
        // Delivery reports are polled on a library thread and handed to the event loop.
        this.producer.setPollInBackground(true);
        resolve();
      });
    }).catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  async send(topic: string, messages: readonly OutgoingMessage[], options?: SendOptions): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    try {
      // Resolves when every message has its delivery report, i.e. after acks=all.
      await new Promise<void>((resolve, reject) => {
        const pending: PendingSend = {
          left: messages.length,
          settled: false,
          resolve: () => {
            this.unsettled.delete(pending);
            resolve();
          },
          reject: (err: unknown) => {
            this.unsettled.delete(pending);
            reject(err);
          },
        };
        this.unsettled.add(pending);
        const shared = rdKafkaHeaders(options?.headers);
        try {
          for (const m of messages) {
            const headers = m.headers === undefined || m.headers === options?.headers ? shared : this.rdKafkaHeaders(m.headers);
            this.producer.produce(topic, m.partition ?? -1, m.value, m.key, m.timestamp ?? 0, pending, headers);
          }
        } catch (err) {
          // Messages queued before the failure may still be delivered: the send fails, the caller
          // retries, and duplicates are harmless where a loss is not.
          pending.settled = true;
          pending.reject(err);
        }
      });
    } catch (err) {
      throw err instanceof DownstreamError ? err : this.mapError(`send to ${topic}`, err);
    }
  }

  private delivered(err: RdKafkaError | null, pending: PendingSend | undefined): void {
    if (!pending || pending.settled) return;
    if (err) {
      pending.settled = true;
      pending.reject(err);
    } else if (--pending.left === 0) {
      pending.settled = true;
      pending.resolve();
    }
  }

  /** Messages' own headers: consecutive messages sharing one object convert it once. */
  private rdKafkaHeaders(headers: OutgoingMessage['headers']): RdKafkaHeaders | undefined {
    if (headers !== this.headersFrom) {
      this.headersFrom = headers;
      this.headersTo = rdKafkaHeaders(headers);
    }
    return this.headersTo;
  }

  async disconnect(): Promise<void> {
    if (!this.connecting) return;
    const connected = await this.connecting.then(
      () => true,
      () => false,
    );
    this.connecting = undefined;
    if (!connected) return;
    try {
      await new Promise<void>((resolve, reject) => {
        this.producer.disconnect((err) => (err ? reject(this.mapError('producer disconnect', err)) : resolve()));
      });
    } finally {
      // librdkafka flushed what it could; a send still without its delivery reports will never get
      // them now. It fails (retriably: the sender may send again), so no caller waits forever and
      // nothing unconfirmed is answered as accepted.
      for (const pending of [...this.unsettled]) {
        pending.settled = true;
        pending.reject(new DownstreamError('Kafka producer closed before every delivery was confirmed', { retriable: true }));
      }
    }
  }
}
