import { context as otelContext, propagation, type Context } from '@opentelemetry/api';
import { mergeMap } from 'rxjs';
import { z } from 'zod';
import { KAFKA_COMPRESSIONS, producerOptionProblems, type KafkaCompression } from '../../../clients/kafka/index.js';
import { byteSize, duration } from '../../../config/units.js';
import { ConfigError } from '../../../errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, encodeSeriesBatch } from '../../../events/index-event.js';
import type { SeriesBatch } from '../../../series/canonical.js';
import type { KafkaResource } from '../../../resources/kafka.js';
import type { Message } from '../../../runtime/message.js';
import { defineProcessor } from '../../../topology/declaration.js';
import { resourceRef } from '../../../topology/resource-ref.js';
import { TopicPartitions } from './topic-partitions.js';

export const kafkaSinkConfig = z.strictObject({
  kafka: resourceRef(['kafka'], 'The Kafka resource to produce to.'),
  topic: z.string().min(1).describe('Topic of the series events: weir.v1.IndexEvents messages, one per partition per batch (a series goes to the partition of its hash).'),
  compression: z.enum(KAFKA_COMPRESSIONS as [KafkaCompression, ...KafkaCompression[]]).default('none').describe('Batch compression; the kafkajs adapter supports none and gzip, confluent all of them.'),
  max_message_bytes: byteSize().prefault(`${DEFAULT_MAX_MESSAGE_BYTES / 1024}KiB`).describe(
    "A batch's message for a partition is closed once it holds this many bytes, and the rest goes in another; keep it well under the topic's max.message.bytes (1 MiB by default).",
  ),
  partitions_refresh: duration().prefault('1m').describe(
    "How often the topic's partition count is asked again (in the background). Added partitions get series once the larger count has been answered for 6 minutes (producers learn of new partitions within 5).",
  ),
  linger: duration().prefault('5ms').describe(
    'confluent adapter: how long librdkafka gathers messages before a produce request, so that batches in flight at the same time share requests (librdkafka linger.ms; adds up to this much latency). The kafkajs adapter sends each batch as it comes.',
  ),
  create_topic_partitions: z.number().int().min(1).optional().describe('Create the topic with this many partitions if it does not exist (for development; production topics are usually made by their owners).'),
});

/**
 * The batch's trace context as message headers (W3C `traceparent`, and `tracestate`/`baggage` when
 * set), or none. With tracing on, every message of a batch carries its batch's context, as Kafka
 * tracing expects (consumers read it per record), and the adapters convert it once per send; with
 * tracing off (no OpenTelemetry SDK: the no-op propagator injects nothing) messages carry no headers.
 */
function traceHeaders(context: Context): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context, carrier);
  for (const _ in carrier) return carrier;
  return undefined;
}

/**
 * Produces a batch's new series and metadata as weir.v1.IndexEvents messages, one per partition
 * it has entries for, and passes the batch on only once Kafka acknowledged every message
 * (acks=all): that is what lets the HTTP edge answer 204, and the dedup tiers mark the series seen.
 */
export const kafkaSink = defineProcessor({
  kind: 'sink',
  type: 'kafka_series',
  summary: 'Produces new series and metadata as weir.v1.IndexEvents, one message per partition per batch (a series goes to its hash\'s partition), with acks=all; the batch is acknowledged when Kafka acknowledged it.',
  stability: 'stable',
  examples: [
    {
      title: 'New series to Kafka, many batches in flight at once',
      yaml: `
        - type: kafka_series
          kafka: cluster
          topic: \${WEIR_SERIES_TOPIC:-weir.series}
          compression: gzip
          runtime:
            concurrency: 16
            timeout: 20s`,
    },
  ],
  accepts: 'SeriesBatch',
  emits: 'SeriesBatch',
  config: kafkaSinkConfig,
  create(config, ctx) {
    const kafka = ctx.resources.get<KafkaResource>(config.kafka, 'kafka');
    const problems = producerOptionProblems(kafka.client.adapter, { compression: config.compression }, 'compression: ');
    if (problems.length > 0) throw new ConfigError(`${ctx.pipeline}.${ctx.stage}: ${problems.map((p) => p.message).join('; ')}`, problems);
    const producer = kafka.producer({ compression: config.compression, lingerMs: Math.round(config.linger) });
    const source = `${ctx.pipeline}/${ctx.stage}`;
    const admin = kafka.admin();
    const partitions = new TopicPartitions(admin, config.topic, config.partitions_refresh, (err) =>
      ctx.logger.warn({ topic: config.topic, err: String(err) }, 'could not refresh the partition count; keeping the last one'),
    );
    let topicReady: Promise<unknown> | undefined;
    return mergeMap(async (msg: Message<SeriesBatch>) => {
      if (config.create_topic_partitions !== undefined) {
        topicReady ??= admin.createTopic(config.topic, { partitions: config.create_topic_partitions }).catch((err: unknown) => {
          topicReady = undefined;
          throw err;
        });
        await topicReady;
      }
      const known = partitions.get();
      const count = typeof known === 'number' ? known : await known;
      const headers = traceHeaders(msg.traceContext ?? otelContext.active());
      const events = encodeSeriesBatch(msg.payload, source, count, config.max_message_bytes);
      if (events.length > 0) await producer.send(config.topic, events.map((e) => ({ key: null, value: e.value, partition: e.partition })), { headers });
      return msg;
    });
  },
});
