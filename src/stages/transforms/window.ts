import { Observable } from 'rxjs';
import { z } from 'zod';
import { byteSize, duration } from '../../config/units.js';
import type { CanonicalSeries, SeriesBatch } from '../../series/canonical.js';
import { metadataIdentity } from '../../series/metadata-identity.js';
import type { MetricMetadata } from '../../remote-write/types.js';
import { Delivery } from '../../runtime/delivery.js';
import { Message } from '../../runtime/message.js';
import { defineProcessor } from '../../topology/declaration.js';

export const windowConfig = z.strictObject({
  max_series: z.number().int().min(1).max(1_000_000).default(1000).describe('Pass the window on once it holds this many series and metadata entries.'),
  max_bytes: byteSize().prefault('4MiB').describe('… or this many bytes of labels.'),
  max_wait: duration().prefault('1s').describe('… or when its first batch has waited this long.'),
});
export type WindowConfig = z.output<typeof windowConfig>;

/**
 * Gathers batches into windows (by count, bytes or time) so the sink writes one large batch per
 * transaction. Each window is one message with a delivery of its own; when it is acknowledged,
 * every batch in it is; when it fails, every batch in it fails (a Kafka source then reads them
 * again). The source can ask for an early flush (before a rebalance gives partitions away).
 */
export const window = defineProcessor({
  kind: 'transform',
  type: 'window',
  summary: 'Gathers series batches into windows by count, bytes or time, so the sink writes one large batch per transaction.',
  stability: 'stable',
  examples: [
    {
      title: 'Windows of about 1,000 series, at most a second old, for one index transaction each',
      yaml: `
        - type: window
          max_series: 1000
          max_wait: 1s`,
    },
  ],
  mode: 'stream',
  accepts: 'SeriesBatch',
  emits: 'SeriesBatch',
  config: windowConfig,
  create(config, ctx) {
    return (source) =>
      new Observable<Message<SeriesBatch>>((subscriber) => {
        let parts: Array<Message<SeriesBatch>> = [];
        let entries = 0;
        let bytes = 0;
        let timer: NodeJS.Timeout | undefined;
        const flush = () => {
          clearTimeout(timer);
          timer = undefined;
          if (parts.length === 0) return;
          const window = parts;
          parts = [];
          entries = 0;
          bytes = 0;
          subscriber.next(combineWindow(window));
        };
        const flushes = ctx.flushRequests.subscribe(flush);
        const input = source.subscribe({
          next(msg: Message<SeriesBatch>) {
            // A batch larger than the room left (a Kafka record holds many series) is split: the
            // window takes what fits, and the rest starts the next one. Each piece holds the
            // batch's delivery, so it is acknowledged once every window it went into is.
            let rest = msg;
            let size = rest.payload.series.length + rest.payload.metadata.length;
            while (entries + size > config.max_series) {
              const [head, tail] = splitBatch(rest.payload, config.max_series - entries);
              rest.delivery.hold();
              parts.push(rest.with(head));
              flush();
              rest = rest.with(tail);
              size = tail.series.length + tail.metadata.length;
            }
            parts.push(rest);
            entries += size;
            // Counting label bytes walks every label: only needed while the count has not decided.
            if (entries >= config.max_series || (bytes += batchBytes(rest.payload)) >= config.max_bytes) flush();
            else timer ??= setTimeout(flush, config.max_wait);
          },
          error(err) {
            flush();
            subscriber.error(err);
          },
          complete() {
            flush();
            subscriber.complete();
          },
        });
        return () => {
          clearTimeout(timer);
          flushes.unsubscribe();
          input.unsubscribe();
        };
      });
  },
});

/** One message for the window: its delivery settles every part's. */
export function combineWindow(parts: Array<Message<SeriesBatch>>): Message<SeriesBatch> {
  if (parts.length === 1) return parts[0];
  const delivery = new Delivery();
  delivery.hold();
  delivery.done.then(
    () => parts.forEach((p) => p.delivery.release()),
    (err: unknown) => parts.forEach((p) => p.delivery.fail(err)),
  );
  return new Message(mergeBatches(parts.map((p) => p.payload)), delivery, parts[0].traceContext);
}

/** One batch of the parts' series (each once, widest time range) and metadata (each once). */
export function mergeBatches(batches: SeriesBatch[]): SeriesBatch {
  const series = new Map<bigint, CanonicalSeries>();
  const metadata = new Map<string, MetricMetadata>();
  let receivedAt = Infinity;
  const counts = { samples: 0, histograms: 0, exemplars: 0 };
  for (const b of batches) {
    for (const s of b.series) {
      const seen = series.get(s.hash);
      if (!seen) series.set(s.hash, s);
      else if (s.firstTimestamp < seen.firstTimestamp || s.lastTimestamp > seen.lastTimestamp) {
        series.set(s.hash, { ...seen, firstTimestamp: Math.min(seen.firstTimestamp, s.firstTimestamp), lastTimestamp: Math.max(seen.lastTimestamp, s.lastTimestamp) });
      }
    }
    for (const m of b.metadata) metadata.set(metadataIdentity(m), m);
    receivedAt = Math.min(receivedAt, b.receivedAt);
    counts.samples += b.counts.samples;
    counts.histograms += b.counts.histograms;
    counts.exemplars += b.counts.exemplars;
  }
  return { series: [...series.values()], metadata: [...metadata.values()], receivedAt, counts };
}

/** The first `n` entries (series, then metadata) and the rest; the request counts go with the first part. */
export function splitBatch(batch: SeriesBatch, n: number): [SeriesBatch, SeriesBatch] {
  const series = batch.series;
  const metadataInHead = Math.max(0, n - series.length);
  return [
    { series: series.slice(0, n), metadata: batch.metadata.slice(0, metadataInHead), receivedAt: batch.receivedAt, counts: batch.counts },
    { series: series.slice(n), metadata: batch.metadata.slice(metadataInHead), receivedAt: batch.receivedAt, counts: { samples: 0, histograms: 0, exemplars: 0 } },
  ];
}

function batchBytes(batch: SeriesBatch): number {
  let bytes = 0;
  for (const s of batch.series) for (const l of s.labels) bytes += l.name.length + l.value.length;
  for (const m of batch.metadata) bytes += m.metricFamilyName.length + m.help.length + m.unit.length;
  return bytes;
}
