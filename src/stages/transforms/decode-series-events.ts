import { map } from 'rxjs';
import { z } from 'zod';
import type { ConsumedBatch } from '../../clients/kafka/index.js';
import { decodeIndexEvents } from '../../events/index-event.js';
import type { Message } from '../../runtime/message.js';
import { defineProcessor } from '../../topology/declaration.js';

export const decodeSeriesEventsConfig = z.strictObject({});

/**
 * Kafka records → SeriesBatch. A record that is not a valid weir.v1.IndexEvents is logged with its
 * partition and offset and skipped, and so is a series whose hash does not match its labels (the
 * rest of its record is indexed): one poisoned record must not stop a partition forever.
 */
export const decodeSeriesEvents = defineProcessor({
  kind: 'transform',
  type: 'decode_series_events',
  summary: 'Turns Kafka records of weir.v1.IndexEvents back into series batches; undecodable records (and series whose hash does not match) are logged and skipped.',
  stability: 'stable',
  examples: [
    {
      title: 'Right after a kafka source reading series events',
      yaml: `
        - type: decode_series_events`,
    },
  ],
  accepts: 'KafkaRecords',
  emits: 'SeriesBatch',
  config: decodeSeriesEventsConfig,
  create(_config, ctx) {
    return map((msg: Message<ConsumedBatch>) => {
      const records = msg.payload;
      const { batch, corrupt } = decodeIndexEvents(records.messages.map((m) => m.value));
      for (const c of corrupt) {
        ctx.logger.warn({ topic: records.topic, partition: records.partition, offset: records.messages[c.index].offset, reason: c.reason }, 'skipping a record, or a series of it, that is not valid');
      }
      return msg.with(batch);
    });
  },
});
