import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import { hashHigh, seriesHash } from '../series/series-hash.js';
import { seriesKey } from '../series/series-key.js';
import { metadataHash } from '../series/metadata-identity.js';
import type { MetricMetadata, MetricType } from '../remote-write/types.js';
import { partitionOf, type DecodedEvents, type EncodedEvents } from './index-event.js';

/**
 * weir.v1.IndexEvents through protobufjs: the reference the hand-written writer and reader
 * (index-event-writer.ts, index-event-reader.ts) are tested against. Test support only: production
 * code never loads protobufjs for these messages.
 */
const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
root.loadSync('weir/v1/index_event.proto');
const IndexEvents = root.lookupType('weir.v1.IndexEvents');

const METRIC_TYPES = new Set<MetricType>(['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset']);

/** The same through protobufjs (no size limit): the reference the hand-written encoder is tested against. */
export function encodeSeriesBatchReference(batch: SeriesBatch, source: string, partitions: number): EncodedEvents[] {
  const byPartition = new Map<number, { series: object[]; metadata: object[] }>();
  const entry = (p: number) => {
    let e = byPartition.get(p);
    if (e === undefined) byPartition.set(p, (e = { series: [], metadata: [] }));
    return e;
  };
  for (const s of batch.series) {
    const key = Buffer.allocUnsafe(8);
    key.writeBigUInt64BE(s.hash);
    entry(partitionOf(hashHigh(s.hash), partitions)).series.push({ hash: key, labels: s.labels, firstTimestampMs: s.firstTimestamp, lastTimestampMs: s.lastTimestamp });
  }
  for (const m of batch.metadata) {
    entry(partitionOf(hashHigh(metadataHash(m)), partitions)).metadata.push({ metricFamilyName: m.metricFamilyName, type: m.type, help: m.help, unit: m.unit });
  }
  return [...byPartition.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, e]) => {
      const value = IndexEvents.encode({ series: e.series, metadata: e.metadata, source, receivedAtMs: batch.receivedAt }).finish();
      return { partition, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), series: e.series.length, metadata: e.metadata.length };
    });
}

interface RawSeriesEvent {
  hash: Uint8Array;
  labels: Array<{ name: string; value: string }>;
  firstTimestampMs: number | { toNumber(): number };
  lastTimestampMs: number | { toNumber(): number };
}

interface RawEvents {
  series: RawSeriesEvent[];
  metadata: Array<{ metricFamilyName: string; type: string; help: string; unit: string }>;
  receivedAtMs?: number | { toNumber(): number };
}

const toNumber = (v: number | { toNumber(): number } | undefined) => (v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

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
    let events: RawEvents;
    try {
      events = IndexEvents.decode(value) as unknown as RawEvents;
    } catch (err) {
      corrupt.push({ index, reason: `not a weir.v1.IndexEvents: ${(err as Error).message}` });
      return;
    }
    receivedAt = Math.min(receivedAt, toNumber(events.receivedAtMs));
    if (events.series.length === 0 && events.metadata.length === 0) {
      corrupt.push({ index, reason: 'message carries neither series nor metadata' });
      return;
    }
    for (const event of events.series) {
      const labels = event.labels.map((l) => ({ name: l.name, value: l.value }));
      const hash = seriesHash(labels);
      const sent = event.hash.length === 8 ? Buffer.from(event.hash).readBigUInt64BE() : undefined;
      if (sent !== hash) {
        corrupt.push({ index, reason: 'series hash does not match its labels' });
        continue;
      }
      const metricName = labels.find((l) => l.name === '__name__')?.value ?? '';
      series.push({ labels, metricName, key: seriesKey(labels), hash, firstTimestamp: toNumber(event.firstTimestampMs), lastTimestamp: toNumber(event.lastTimestampMs) });
    }
    for (const m of events.metadata) {
      const type = METRIC_TYPES.has(m.type as MetricType) ? (m.type as MetricType) : 'unknown';
      metadata.push({ metricFamilyName: m.metricFamilyName, type, help: m.help, unit: m.unit });
    }
  });
  return {
    batch: { series, metadata, receivedAt: receivedAt === Infinity ? Date.now() : receivedAt, counts: { samples: 0, histograms: 0, exemplars: 0 } },
    corrupt,
  };
}
