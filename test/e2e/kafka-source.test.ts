import { mergeMap } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createKafkaClient } from '../../src/clients/kafka/index.js';
import { InvalidInputError } from '../../src/errors.js';
import { encodeSeriesBatch } from '../../src/events/index-event.js';
import type { CanonicalSeries, SeriesBatch } from '../../src/series/canonical.js';
import { seriesHash } from '../../src/series/series-hash.js';
import { seriesKey } from '../../src/series/series-key.js';
import type { Message } from '../../src/runtime/message.js';
import { defineProcessor, type ProcessorDeclaration, type ResourceDeclaration, type SourceDeclaration } from '../../src/topology/declaration.js';
import { defaultRegistry } from '../../src/components.js';
import { createRegistry } from '../../src/topology/registry.js';
import { deleteTopic, eventually, kafkaBrokers, uniqueName } from '../support/kafka.js';
import { getJson, startTestWeir, type TestWeir } from '../support/weir.js';

/**
 * The Kafka source's promises, each observed from outside: a window that fails for good is read
 * again (nothing skipped), partitions pause while the pipeline is full, and windows are flushed
 * and committed before a rebalance gives partitions to another member.
 */
const control = { failuresLeft: 0, gateOpen: true, written: 0 };
const waiters: Array<() => void> = [];
const testSink = defineProcessor({
  kind: 'sink',
  type: 'test_flaky',
  summary: 'Test only: fails (non-retriably) while failuresLeft > 0, waits while the gate is shut.',
  stability: 'experimental',
  examples: [{ title: 'Test only', yaml: '- type: test_flaky' }],
  accepts: 'SeriesBatch',
  emits: 'same',
  config: z.strictObject({}),
  create: () =>
    mergeMap(async (m: Message<SeriesBatch>) => {
      if (control.failuresLeft > 0) {
        control.failuresLeft -= 1;
        throw new InvalidInputError('test: this window fails for good');
      }
      while (!control.gateOpen) await new Promise<void>((r) => waiters.push(r));
      control.written += m.payload.series.length;
      return m;
    }),
});
const openGate = () => {
  control.gateOpen = true;
  waiters.splice(0).forEach((w) => w());
};

function registry() {
  const base = defaultRegistry();
  return createRegistry({
    sources: [...base.sources.values()] as SourceDeclaration[],
    processors: [...base.processors.values(), testSink] as ProcessorDeclaration[],
    resources: [...base.resources.values()] as ResourceDeclaration[],
  });
}

const topology = (topic: string, group: string, opts: { maxInFlight?: number; maxWait?: string; maxSeries?: number } = {}) => `
name: source_test
resources:
  cluster: { type: kafka, brokers: ${kafkaBrokers()} }
  index: { type: sqlite_index }
pipelines:
  index:
    max_in_flight: ${opts.maxInFlight ?? 64}
    source:
      type: kafka
      kafka: cluster
      topic: ${topic}
      group_id: ${group}
      max_batch_messages: 50
    steps:
      - type: decode_series_events
      - type: window
        max_series: ${opts.maxSeries ?? 100}
        max_wait: ${opts.maxWait ?? '100ms'}
      - type: test_flaky
        runtime: { retry: { max_retries: 0 } }
      - type: series_index
        index: index
        runtime: { concurrency: 1 }
api:
  index: index
`;

function seriesBatch(from: number, count: number): SeriesBatch {
  const series: CanonicalSeries[] = Array.from({ length: count }, (_, k) => {
    const labels = [{ name: '__name__', value: 'source_test' }, { name: 'n', value: String(from + k).padStart(6, '0') }];
    return { labels, metricName: 'source_test', key: seriesKey(labels), hash: seriesHash(labels), firstTimestamp: 1, lastTimestamp: 2 };
  });
  return { series, metadata: [], receivedAt: Date.now(), counts: { samples: 0, histograms: 0, exemplars: 0 } };
}

/** Records of a few series each (as a trickle of small requests makes them), so a window takes many and splits some. */
const MESSAGE_BYTES = 300;

async function produce(topic: string, from: number, count: number, partitions = 2): Promise<void> {
  const kafka = createKafkaClient({ adapter: 'kafkajs', brokers: kafkaBrokers().split(','), clientId: 'weir-test' });
  const admin = kafka.admin();
  await admin.createTopic(topic, { partitions });
  await admin.disconnect();
  const producer = kafka.producer();
  const events = encodeSeriesBatch(seriesBatch(from, count), 'test', partitions, MESSAGE_BYTES);
  await producer.send(topic, events.map((e) => ({ key: null, value: e.value, partition: e.partition })));
  await producer.disconnect();
}

const indexed = (weir: TestWeir) => getJson(`${weir.url}/api/v1/series?match[]=source_test`).then((r) => (r.body.data as unknown[]).length);

describe('kafka source', () => {
  const running: TestWeir[] = [];
  const topics: string[] = [];
  afterEach(async () => {
    // The gate opens so that stopping never waits on it; the counters are reset only once every
    // weir has stopped: one still writing (a window read again) must not count in the next test.
    openGate();
    control.failuresLeft = 0;
    await Promise.all(running.splice(0).map((w) => w.stop()));
    control.written = 0;
    await Promise.all(topics.splice(0).map(deleteTopic));
  });

  it('reads a window again when it fails for good, so nothing is skipped', async () => {
    const topic = uniqueName('weir-src-rewind');
    topics.push(topic);
    await produce(topic, 0, 400);
    control.failuresLeft = 2;
    const weir = await startTestWeir({ topologyText: topology(topic, uniqueName('g')), registry: registry() });
    running.push(weir);
    await eventually(() => indexed(weir), (n) => n === 400, { what: '400 series indexed after two failed windows' });
    expect(control.failuresLeft).toBe(0);
  });

  it('pauses while the pipeline is full and takes everything once it drains', async () => {
    const topic = uniqueName('weir-src-pause');
    topics.push(topic);
    await produce(topic, 0, 1000);
    control.gateOpen = false;
    const weir = await startTestWeir({ topologyText: topology(topic, uniqueName('g'), { maxInFlight: 2, maxSeries: 50, maxWait: '10ms' }), registry: registry() });
    running.push(weir);
    const inFlight = async () => {
      const metrics = await (await fetch(`${weir.url}/metrics`)).text();
      return Number(/weir_pipeline_in_flight\{pipeline="index"\} (\d+)/.exec(metrics)?.[1] ?? -1);
    };
    // With the sink shut, the source may hold its 2 credits plus what one fetch per partition brings, never the whole topic.
    await eventually(inFlight, (n) => n >= 2, { what: 'the pipeline to fill' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await inFlight()).toBeLessThanOrEqual(2 + 2);
    expect(control.written).toBe(0);
    openGate();
    await eventually(() => indexed(weir), (n) => n === 1000, { what: 'all 1000 series after the gate opened' });
  });

  it('flushes its windows and commits before a rebalance gives partitions away', async () => {
    const topic = uniqueName('weir-src-rebalance');
    const group = uniqueName('g');
    topics.push(topic);
    await produce(topic, 0, 300, 4);
    // Windows that would wait a minute: only a flush on revoke writes them in time.
    const first = await startTestWeir({ topologyText: topology(topic, group, { maxSeries: 100_000, maxWait: '60s' }), registry: registry() });
    running.push(first);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await indexed(first)).toBe(0);
    const second = await startTestWeir({ topologyText: topology(topic, group, { maxSeries: 100_000, maxWait: '60s' }), registry: registry() });
    running.push(second);
    await eventually(() => indexed(first), (n) => n === 300, { what: 'the first member to flush its windows on revoke', timeoutMs: 45_000 });
  });
});
