import { context as otelContext, propagation, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { KafkaProducer, OutgoingMessage, SendOptions } from '../../../clients/kafka/index.js';
import { decodeIndexEvents, encodeSeriesBatch, partitionOf } from '../../../events/index-event.js';
import type { CanonicalSeries, SeriesBatch } from '../../../series/canonical.js';
import { hashHigh, seriesHash } from '../../../series/series-hash.js';
import { seriesKey } from '../../../series/series-key.js';
import type { KafkaResource } from '../../../resources/kafka.js';
import { runStage } from '../../stage-harness.test-support.js';
import { kafkaSink } from './stage.js';

interface Sent {
  topic: string;
  messages: readonly OutgoingMessage[];
  options?: SendOptions;
}

function fakeKafka(sent: Sent[], partitions: () => number): KafkaResource {
  const producer: KafkaProducer = {
    connect: async () => {},
    send: async (topic, messages, options) => {
      sent.push({ topic, messages, options });
    },
    disconnect: async () => {},
  };
  const admin = { fetchTopicOffsets: async () => Array.from({ length: partitions() }, (_, partition) => ({ partition, low: '0', high: '0' })) };
  return { name: 'cluster', client: { adapter: 'confluent' }, producer: () => producer, admin: () => admin, close: async () => {} } as unknown as KafkaResource;
}

function series(i: number): CanonicalSeries {
  const labels = [
    { name: '__name__', value: 'up' },
    { name: 'instance', value: `host-${i}` },
  ];
  return { labels, metricName: 'up', key: seriesKey(labels), hash: seriesHash(labels), firstTimestamp: 1000 + i, lastTimestamp: 2000 + i };
}

function batch(n: number): SeriesBatch {
  return { series: Array.from({ length: n }, (_, i) => series(i)), metadata: [], receivedAt: 1_800_000_000_000, counts: { samples: n, histograms: 0, exemplars: 0 } } as SeriesBatch;
}

async function run(config: Record<string, unknown>, batches: SeriesBatch[], options: { partitions?: () => number; traceContext?: Context } = {}): Promise<Sent[]> {
  const sent: Sent[] = [];
  const resources = { cluster: fakeKafka(sent, options.partitions ?? (() => 4)) };
  await runStage(kafkaSink, { kafka: 'cluster', topic: 'weir.series', ...config }, batches, { pipeline: 'ingest', stage: 'kafka', resources, traceContext: options.traceContext });
  return sent;
}

afterEach(() => propagation.disable());

describe('kafka_series sink', () => {
  it('sends a batch as one produce call of IndexEvents, one message per partition, without keys or headers when tracing is off', async () => {
    const sent = await run({}, [batch(40)]);
    expect(sent).toHaveLength(1);
    expect(sent[0].topic).toBe('weir.series');
    expect(sent[0].options?.headers).toBeUndefined();
    expect(sent[0].messages.every((m) => m.headers === undefined && m.key === null)).toBe(true);
    const expected = encodeSeriesBatch(batch(40), 'ingest/kafka', 4);
    expect(sent[0].messages.map((m) => [m.partition, m.value])).toEqual(expected.map((e) => [e.partition, e.value]));
    expect(new Set(sent[0].messages.map((m) => m.partition))).toEqual(new Set([0, 1, 2, 3]));
    for (const m of sent[0].messages) {
      for (const s of decodeIndexEvents([m.value]).batch.series) expect(partitionOf(hashHigh(s.hash), 4)).toBe(m.partition);
    }
  });

  it('splits a partition past max_message_bytes into several messages, every series once', async () => {
    const sent = await run({ max_message_bytes: 256 }, [batch(40)]);
    expect(sent).toHaveLength(1);
    expect(sent[0].messages.length).toBeGreaterThan(8);
    const decoded = decodeIndexEvents(sent[0].messages.map((m) => m.value)).batch.series;
    expect(decoded.map((s) => s.hash).sort()).toEqual(batch(40).series.map((s) => s.hash).sort());
  });

  it('asks the partition count once, not per batch', async () => {
    let asked = 0;
    const sent = await run({}, [batch(10), batch(10)], { partitions: () => (asked++, 1) });
    expect(asked).toBe(1);
    expect(sent.flatMap((s) => s.messages.map((m) => m.partition))).toEqual([0, 0]);
  });

  it("gives every message of a batch its batch's traceparent when tracing is on, as one headers object per send", async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    const traced = trace.setSpanContext(otelContext.active(), spanContext);
    const sent = await run({}, [batch(3)], { traceContext: traced });
    expect(sent[0].options?.headers).toEqual({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  });
});
