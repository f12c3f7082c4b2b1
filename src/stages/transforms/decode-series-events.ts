import { map } from 'rxjs';
import { z } from 'zod';
import type { ConsumedBatch } from '../../clients/kafka/index.js';
import { decodeIndexEvents } from '../../events/index-event.js';
import type { Message } from '../../runtime/message.js';
import { defineProcessor } from '../../topology/declaration.js';

export const decodeSeriesEventsConfig = z.strictObject({});

/**
 * Kafka records → SeriesBatch. A record that is not a valid weir.v1.IndexEvent (or whose hash
 * does not match its labels) is logged with its partition and offset and skipped: one poisoned
 * record must not stop a partition forever.
 */
export const decodeSeriesEvents = defineProcessor({
  kind: 'transform',
  type: 'decode_series_events',
  summary: 'Turns Kafka records of weir.v1.IndexEvent back into series batches; undecodable records are logged and skipped.',
  accepts: 'KafkaRecords',
  emits: 'SeriesBatch',
  config: decodeSeriesEventsConfig,
  create(_config, ctx) {
    return map((msg: Message<ConsumedBatch>) => {
      const records = msg.payload;
      const { batch, corrupt } = decodeIndexEvents(records.messages.map((m) => m.value));
      for (const c of corrupt) {
        ctx.logger.warn({ topic: records.topic, partition: records.partition, offset: records.messages[c.index].offset, reason: c.reason }, 'skipping a record that is not a valid series event');
      }
      return msg.with(batch);
    });
  },
});
