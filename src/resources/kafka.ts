import { z } from 'zod';
import { chooseKafkaAdapter, createKafkaClient, KAFKA_ADAPTERS, type ConsumerOptions, type KafkaAdmin, type KafkaClient, type KafkaConsumer, type KafkaProducer, type ProducerOptions } from '../clients/kafka/index.js';
import { defineResource, type Resource } from '../topology/declaration.js';

export const kafkaConfig = z.strictObject({
  adapter: z
    .enum(['auto', ...KAFKA_ADAPTERS] as ['auto', 'kafkajs', 'confluent'])
    .default('kafkajs')
    .describe(
      'kafkajs (pure JavaScript, always available), confluent (@confluentinc/kafka-javascript on librdkafka: about twice the messages per CPU-second, and snappy/lz4/zstd compression; an optional dependency that must be built, see scripts/install-confluent.sh), ' +
        'or auto: confluent where it loads, else kafkajs with a warning saying why.',
    ),
  brokers: z
    .union([z.string(), z.array(z.string()).min(1)])
    .transform((v) => (typeof v === 'string' ? v.split(',').map((b) => b.trim()).filter(Boolean) : v))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1))
    .describe('Bootstrap brokers: a list, or one comma-separated string (handy with ${WEIR_KAFKA_BROKERS}).'),
  client_id: z.string().min(1).default('weir').describe('Client id the brokers see in their logs and quotas.'),
});

/** A Kafka cluster as stages see it: one client, and every producer and consumer made from it closed with it. */
export interface KafkaResource extends Resource {
  readonly client: KafkaClient;
  producer(options?: ProducerOptions): KafkaProducer;
  consumer(options: ConsumerOptions): KafkaConsumer;
  admin(): KafkaAdmin;
}

export const kafka = defineResource({
  kind: 'resource',
  type: 'kafka',
  summary: 'A Kafka cluster (client, producers and consumers), through the kafkajs or the confluent adapter.',
  stability: 'stable',
  examples: [
    {
      title: 'A cluster named by the stages that use it; confluent where it is built, else kafkajs',
      yaml: `
        cluster:
          type: kafka
          adapter: auto
          brokers: \${WEIR_KAFKA_BROKERS:-kafka-1:9092,kafka-2:9092}
          client_id: weir-ingest`,
    },
  ],
  provides: ['kafka'],
  config: kafkaConfig,
  async open(config, ctx): Promise<KafkaResource> {
    const { adapter, fallbackReason } = chooseKafkaAdapter(config.adapter);
    if (fallbackReason) ctx.logger.warn({ resource: ctx.name, reason: fallbackReason }, 'kafka adapter auto: using kafkajs, confluent is not available');
    const client = createKafkaClient({ adapter, brokers: config.brokers, clientId: config.client_id, logger: ctx.logger, logLevel: 'warn' });
    const producers: KafkaProducer[] = [];
    const consumers: KafkaConsumer[] = [];
    const admins: KafkaAdmin[] = [];
    return {
      client,
      producer(options) {
        const p = client.producer(options);
        producers.push(p);
        return p;
      },
      consumer(options) {
        const c = client.consumer(options);
        consumers.push(c);
        return c;
      },
      admin() {
        const a = client.admin();
        admins.push(a);
        return a;
      },
      async close() {
        // Consumers first: stopping one commits what its pipeline finished.
        await Promise.allSettled(consumers.map((c) => c.stop()));
        await Promise.allSettled([...producers.map((p) => p.disconnect()), ...admins.map((a) => a.disconnect())]);
      },
    };
  },
});
