import { mergeMap } from 'rxjs';
import { z } from 'zod';
import type { SeriesIndex } from '../../index/series-index.js';
import type { SeriesBatch } from '../../series/canonical.js';
import type { Message } from '../../runtime/message.js';
import { defineProcessor } from '../../topology/declaration.js';
import { resourceRef } from '../../topology/resource-ref.js';

export const seriesIndexSinkConfig = z.strictObject({
  index: resourceRef(['series_index'], 'The series index resource to write to (sqlite_index, mysql_index).'),
});

/** Writes each batch of series and metadata to the index in one transaction; emitting the batch afterwards acknowledges it. */
export const seriesIndexSink = defineProcessor({
  kind: 'sink',
  type: 'series_index',
  summary: 'Upserts series, label postings and metric metadata into the series index, one transaction per batch.',
  stability: 'stable',
  examples: [
    {
      title: 'Into an SQLite index: one batch at a time, as SQLite takes one writer at a time',
      yaml: `
        - type: series_index
          index: index
          runtime:
            concurrency: 1`,
    },
    {
      title: 'Into a MySQL index: a few windows at once, retried for about half a minute of database outage',
      yaml: `
        - type: series_index
          index: index
          runtime:
            concurrency: 4
            retry: { max_retries: 8, initial_backoff: 200ms, max_backoff: 10s }`,
    },
  ],
  accepts: 'SeriesBatch',
  emits: 'SeriesBatch',
  config: seriesIndexSinkConfig,
  create(config, ctx) {
    const index = ctx.resources.get<SeriesIndex>(config.index, 'series_index');
    return mergeMap(async (msg: Message<SeriesBatch>) => {
      await index.writeBatch(msg.payload);
      return msg;
    });
  },
});
