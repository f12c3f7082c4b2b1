import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaAdapterName } from '../../src/clients/kafka/index.js';
import { loadCorpus, loadManifest } from '../support/corpus.js';
import { deleteTopic, eventually, kafkaBrokers, readTopicEvents, topicRecordCount, uniqueName } from '../support/kafka.js';
import { getJson, postWrite, startTestWeir, type TestWeir } from '../support/weir.js';

/**
 * remote_write → canonicalize → dedup → Kafka → window → index, both halves in one process, with
 * each Kafka adapter: every corpus series reaches the index, and posting the corpus again puts
 * nothing new on the topic.
 */
const corpus = loadCorpus();
const ALL = `/api/v1/series?match[]=${encodeURIComponent('{__name__=~".+"}')}`;

const topology = (adapter: KafkaAdapterName, topic: string, group: string) => `
name: kafka_path
resources:
  cluster:
    type: kafka
    adapter: ${adapter}
    brokers: ${kafkaBrokers()}
  recent_series:
    type: memory_dedup
  index:
    type: sqlite_index
pipelines:
  ingest:
    source: { type: http_remote_write }
    steps:
      - type: canonicalize
      - type: dedup
        tiers: [recent_series]
      - type: kafka_series
        kafka: cluster
        topic: ${topic}
        create_topic_partitions: 4
  index:
    source:
      type: kafka
      kafka: cluster
      topic: ${topic}
      group_id: ${group}
    steps:
      - type: decode_series_events
      - type: window
        max_series: 1000
        max_wait: 200ms
      - type: series_index
        index: index
        runtime: { concurrency: 1 }
api:
  index: index
`;

describe.each(['kafkajs', 'confluent'] as const)('ingest → Kafka → index with the %s adapter', (adapter) => {
  let weir: TestWeir;
  const topic = uniqueName(`weir-series-${adapter}`);
  beforeAll(async () => {
    weir = await startTestWeir({ topologyText: topology(adapter, topic, uniqueName('weir-indexer')) });
  });
  afterAll(async () => {
    const t0 = Date.now();
    await weir?.stop();
    if (process.env.WEIR_TEST_LOG) console.log('weir stopped in', Date.now() - t0);
    await deleteTopic(topic);
    if (process.env.WEIR_TEST_LOG) console.log('topic deleted in', Date.now() - t0);
  });

  let eventsAfterFirstPass = 0;
  it('indexes every distinct series of the corpus through Kafka', async () => {
    for (const { body } of corpus) expect((await postWrite(weir.url, body)).status).toBe(204);
    const { body } = await eventually(() => getJson(`${weir.url}${ALL}`), (r) => r.body.data?.length >= loadManifest().distinct_series, { what: 'all series indexed' });
    expect(body.data).toHaveLength(loadManifest().distinct_series);
    eventsAfterFirstPass = await topicRecordCount(topic);
    // Every distinct series is in the topic (more only if a retry sent one again), in records of many.
    const back = await readTopicEvents(topic);
    expect(back.corrupt).toBe(0);
    expect(back.series).toBeGreaterThanOrEqual(loadManifest().distinct_series);
    expect(back.records).toBe(eventsAfterFirstPass);
    expect(back.records).toBeLessThan(back.series / 10);
    const meta = await getJson(`${weir.url}/api/v1/metadata?metric=go_goroutines`);
    expect(meta.body.data.go_goroutines[0].type).toBe('gauge');
  });

  it('sends no new series events when the corpus comes again', async () => {
    for (const { body } of corpus) expect((await postWrite(weir.url, body)).status).toBe(204);
    expect(await topicRecordCount(topic)).toBe(eventsAfterFirstPass);
  });
});
