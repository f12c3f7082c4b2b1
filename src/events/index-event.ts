import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { metadataHash, seriesHash, seriesKey, type CanonicalSeries, type SeriesBatch } from '../remote-write/canonical.js';
import type { MetricMetadata, MetricType } from '../remote-write/types.js';
import { readIndexEvent } from './index-event-reader.js';
import { writeIndexEvents, type EncodedEvent } from './index-event-writer.js';

export type { EncodedEvent } from './index-event-writer.js';

/**
 * Encoding of weir's Kafka messages (proto/weir/v1/index_event.proto): a SeriesBatch becomes one
 * message per series and per metadata entry, keyed by its hash; the index side turns consumed
 * messages back into SeriesBatches, checking each series' hash against its labels.
 */
const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
root.loadSync('weir/v1/index_event.proto');
const IndexEvent = root.lookupType('weir.v1.IndexEvent');

const METRIC_TYPES = new Set<MetricType>(['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset']);

export function hashToKey(hash: bigint): Buffer {
  const key = Buffer.allocUnsafe(8);
  key.writeBigUInt64BE(hash);
  return key;
}

/** One message per series, then one per metadata entry; the values are views of one buffer. */
export function encodeSeriesBatch(batch: SeriesBatch, source: string): EncodedEvent[] {
  return writeIndexEvents(batch.series, batch.metadata, source, batch.receivedAt, (m) => hashToKey(metadataHash(m)));
}

/** The same through protobufjs: the reference the hand-written encoder is tested against. */
export function encodeSeriesBatchReference(batch: SeriesBatch, source: string): EncodedEvent[] {
  const out: EncodedEvent[] = [];
  for (const s of batch.series) {
    const key = hashToKey(s.hash);
    const value = IndexEvent.encode({
      series: { hash: key, labels: s.labels, firstTimestampMs: s.firstTimestamp, lastTimestampMs: s.lastTimestamp },
      source,
      receivedAtMs: batch.receivedAt,
    }).finish();
    out.push({ key, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength) });
  }
  for (const m of batch.metadata) {
    const value = IndexEvent.encode({
      metadata: { metricFamilyName: m.metricFamilyName, type: m.type, help: m.help, unit: m.unit },
      source,
      receivedAtMs: batch.receivedAt,
    }).finish();
    out.push({ key: hashToKey(metadataHash(m)), value: Buffer.from(value.buffer, value.byteOffset, value.byteLength) });
  }
  return out;
}

export interface DecodedEvents {
  batch: SeriesBatch;
  /** Messages that could not be decoded or whose hash does not match their labels. */
  corrupt: Array<{ index: number; reason: string }>;
}

interface RawEvent {
  series?: { hash: Uint8Array; labels: Array<{ name: string; value: string }>; firstTimestampMs: number | { toNumber(): number }; lastTimestampMs: number | { toNumber(): number } };
  metadata?: { metricFamilyName: string; type: string; help: string; unit: string };
  receivedAtMs?: number | { toNumber(): number };
}

const toNumber = (v: number | { toNumber(): number } | undefined) => (v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

/** Consumed messages back into one SeriesBatch, with the hand-written reader (index-event-reader.ts). */
export function decodeIndexEvents(values: ReadonlyArray<Uint8Array | null>): DecodedEvents {
  const series: CanonicalSeries[] = [];
  const metadata: MetricMetadata[] = [];
  const corrupt: Array<{ index: number; reason: string }> = [];
  let receivedAt = Infinity;
  for (let index = 0; index < values.length; index++) {
    const event = readIndexEvent(values[index]);
    if (event.receivedAt !== undefined) receivedAt = Math.min(receivedAt, event.receivedAt);
    if (event.kind === 'corrupt') {
      corrupt.push({ index, reason: event.reason });
      continue;
    }
    if (event.kind === 'series') series.push(event.series);
    else metadata.push(event.metadata);
  }
  return {
    batch: { series, metadata, receivedAt: receivedAt === Infinity ? Date.now() : receivedAt, counts: { samples: 0, histograms: 0, exemplars: 0 } },
    corrupt,
  };
}

/** The same through protobufjs: the reference the hand-written reader is tested against. */
export function decodeIndexEventsReference(values: ReadonlyArray<Uint8Array | null>): DecodedEvents {
  const series: CanonicalSeries[] = [];
  const metadata: MetricMetadata[] = [];
  const corrupt: Array<{ index: number; reason: string }> = [];
  let receivedAt = Infinity;
  values.forEach((value, index) => {
    if (!value) {
      corrupt.push({ index, reason: 'empty message' });
      return;
    }
    let event: RawEvent;
    try {
      event = IndexEvent.decode(value) as unknown as RawEvent;
    } catch (err) {
      corrupt.push({ index, reason: `not a weir.v1.IndexEvent: ${(err as Error).message}` });
      return;
    }
    receivedAt = Math.min(receivedAt, toNumber(event.receivedAtMs));
    if (event.series) {
      const labels = event.series.labels.map((l) => ({ name: l.name, value: l.value }));
      const hash = seriesHash(labels);
      const sent = event.series.hash.length === 8 ? Buffer.from(event.series.hash).readBigUInt64BE() : undefined;
      if (sent !== hash) {
        corrupt.push({ index, reason: 'series hash does not match its labels' });
        return;
      }
      const metricName = labels.find((l) => l.name === '__name__')?.value ?? '';
      series.push({ labels, metricName, key: seriesKey(labels), hash, firstTimestamp: toNumber(event.series.firstTimestampMs), lastTimestamp: toNumber(event.series.lastTimestampMs) });
    } else if (event.metadata) {
      const m = event.metadata;
      const type = METRIC_TYPES.has(m.type as MetricType) ? (m.type as MetricType) : 'unknown';
      metadata.push({ metricFamilyName: m.metricFamilyName, type, help: m.help, unit: m.unit });
    } else {
      corrupt.push({ index, reason: 'event carries neither series nor metadata' });
    }
  });
  return {
    batch: { series, metadata, receivedAt: receivedAt === Infinity ? Date.now() : receivedAt, counts: { samples: 0, histograms: 0, exemplars: 0 } },
    corrupt,
  };
}
