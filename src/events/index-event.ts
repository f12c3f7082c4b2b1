import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import type { MetricMetadata } from '../remote-write/types.js';
import { readIndexEvents } from './index-event-reader.js';
import { writeIndexEvents, type EncodedEvents } from './index-event-writer.js';

export { partitionOf, type EncodedEvents } from './index-event-writer.js';

/**
 * Encoding of weir's Kafka messages (proto/weir/v1/index_event.proto): a SeriesBatch becomes one
 * IndexEvents message per partition it has entries for (a series goes to its hash's partition);
 * the index side turns consumed messages back into SeriesBatches, checking each series' hash
 * against its labels. The protobufjs twins the hand-written codec is tested against are in
 * index-event-reference.test-support.ts.
 */

/** Messages are closed at this size unless the sink says otherwise (Kafka's default limit is 1 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

/** A batch's events as IndexEvents messages, one per partition with events (more past `maxBytes`). */
export function encodeSeriesBatch(batch: SeriesBatch, source: string, partitions: number, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): EncodedEvents[] {
  return writeIndexEvents(batch, source, partitions, maxBytes);
}

export interface DecodedEvents {
  batch: SeriesBatch;
  /** Messages that could not be decoded or whose hash does not match their labels. */
  corrupt: Array<{ index: number; reason: string }>;
}

/** Consumed messages back into one SeriesBatch, with the hand-written reader (index-event-reader.ts). */
export function decodeIndexEvents(values: ReadonlyArray<Uint8Array | null>): DecodedEvents {
  const series: CanonicalSeries[] = [];
  const metadata: MetricMetadata[] = [];
  const corrupt: Array<{ index: number; reason: string }> = [];
  let receivedAt = Infinity;
  for (let index = 0; index < values.length; index++) {
    const read = readIndexEvents(values[index], series, metadata);
    if (read.receivedAt !== undefined) receivedAt = Math.min(receivedAt, read.receivedAt);
    for (const reason of read.problems) corrupt.push({ index, reason });
  }
  return {
    batch: { series, metadata, receivedAt: receivedAt === Infinity ? Date.now() : receivedAt, counts: { samples: 0, histograms: 0, exemplars: 0 } },
    corrupt,
  };
}
