import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type KafkaAdapterName } from '../../src/clients/kafka/index.js';
import { openMysqlIndex } from '../../src/clients/mysql/mysql-index.js';
import { parseSeriesSelector } from '../../src/index/selector.js';
import { loadCorpus } from '../support/corpus.js';
import { canonicalLabels, corpusExpectations, metadataAsSets } from '../support/corpus-expectations.js';
import { deleteTopic, eventually, kafkaBrokers, topicRecordCount } from '../support/kafka.js';
import { getJson, postWrite, startTestWeir, type TestWeir } from '../support/weir.js';

/**
 * The production path on the real services, with the shipped split roles: topology/ingest.yaml
 * (remote_write → canonicalize → memory + Redis dedup → Kafka) and topology/indexer.yaml
 * (Kafka → windows → MariaDB). MariaDB must hold exactly the corpus's series and metadata; the
 * corpus posted again must put nothing new on the topic; after the database is dropped, a replay of
 * the topic from offset 0 must bring the same rows back.
 */
const run = promisify(execFile);
const corpus = loadCorpus();
const expected = corpusExpectations();
const ALL = `/api/v1/series?match[]=${encodeURIComponent('{__name__=~".+"}')}`;
const mysqlUrl = process.env.WEIR_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const PARTITIONS = 4;

describe.each(['kafkajs', 'confluent'] as const)('production path with the %s adapter', (adapter: KafkaAdapterName) => {
  const id = randomUUID().slice(0, 8);
  const env = {
    WEIR_KAFKA_ADAPTER: adapter,
    WEIR_KAFKA_BROKERS: kafkaBrokers(),
    WEIR_SERIES_TOPIC: `weir-e2e-series-${id}`,
    WEIR_INDEXER_GROUP: `weir-e2e-indexer-${id}`,
    WEIR_MYSQL_URL: mysqlUrl,
    WEIR_MYSQL_DATABASE: `weir_e2e_${id}`,
    WEIR_REDIS_PREFIX: `weir:e2e:${id}`,
    WEIR_EXPECTED_SERIES: '100000',
  };
  let ingest: TestWeir;
  let indexer: TestWeir | undefined;
  let db: mysql.Connection;

  beforeAll(async () => {
    // As an operator would: the topic exists, with partitions to spread the indexers over.
    const admin = createKafkaClient({ adapter: 'kafkajs', brokers: kafkaBrokers().split(','), clientId: 'weir-test' }).admin();
    await admin.createTopic(env.WEIR_SERIES_TOPIC, { partitions: PARTITIONS });
    await admin.disconnect();
    ingest = await startTestWeir({ topologyFile: 'topology/ingest.yaml', env });
    indexer = await startTestWeir({ topologyFile: 'topology/indexer.yaml', env });
    db = await mysql.createConnection(mysqlUrl);
  });
  afterAll(async () => {
    await ingest?.stop();
    await indexer?.stop();
    await db?.query(`DROP DATABASE IF EXISTS \`${env.WEIR_MYSQL_DATABASE}\``);
    await db?.end();
    await deleteTopic(env.WEIR_SERIES_TOPIC);
  });

  const seriesInDatabase = async () => {
    const [rows] = await db.query(`SELECT COUNT(*) AS n FROM \`${env.WEIR_MYSQL_DATABASE}\`.series`);
    return Number((rows as Array<{ n: number }>)[0].n);
  };

  let events = 0;
  it('indexes exactly the corpus\'s series and metadata in MariaDB', async () => {
    for (const { body } of corpus) expect((await postWrite(ingest.url, body)).status).toBe(204);
    await eventually(seriesInDatabase, (n) => n >= expected.series.size, { what: 'series in MariaDB', timeoutMs: 60_000 });
    expect(await seriesInDatabase()).toBe(expected.series.size);
    const { body } = await getJson(`${indexer!.url}${ALL}`);
    expect(new Set((body.data as Array<Record<string, string>>).map(canonicalLabels))).toEqual(new Set(expected.series.keys()));
    const meta = await eventually(() => getJson(`${indexer!.url}/api/v1/metadata`), (r) => Object.keys(r.body.data).length >= expected.metadata.size, { what: 'metadata indexed' });
    expect(metadataAsSets(meta.body.data)).toEqual(expected.metadata);
    events = await topicRecordCount(env.WEIR_SERIES_TOPIC);
  });

  it('puts no new series events on the topic when the corpus comes again', async () => {
    for (const { body } of corpus) expect((await postWrite(ingest.url, body)).status).toBe(204);
    expect(await topicRecordCount(env.WEIR_SERIES_TOPIC)).toBe(events);
  });

  it('brings the same rows back by replaying the topic from offset 0 after the database is dropped', async () => {
    const before = await allSeriesIn(env.WEIR_MYSQL_DATABASE);
    await indexer!.stop();
    indexer = undefined;
    await db.query(`DROP DATABASE \`${env.WEIR_MYSQL_DATABASE}\``);
    const fromOffset = Array.from({ length: PARTITIONS }, (_, p) => `${p}:0`).join(',');
    const { stdout } = await run('npx', ['tsx', 'src/cli/main.ts', 'replay', '--topology', 'topology/indexer.yaml', '--from-offset', fromOffset], {
      env: { ...process.env, ...env, WEIR_LOG__LEVEL: 'error' },
      timeout: 120_000,
    });
    expect(stdout).toMatch(new RegExp(`replayed ${events} records of ${env.WEIR_SERIES_TOPIC}`));
    expect(stdout).toContain(`0 → ${expected.series.size} series`);
    expect(await seriesInDatabase()).toBe(expected.series.size);
    const after = await allSeriesIn(env.WEIR_MYSQL_DATABASE);
    expect(after).toEqual(before);
  });
});

/** Every series in the database, sorted by key, read through weir's own index layer. */
async function allSeriesIn(database: string) {
  const idx = await openMysqlIndex({ url: `${mysqlUrl}/${database}` });
  try {
    return await idx.series([parseSeriesSelector('{__name__=~".+"}')]);
  } finally {
    await idx.close();
  }
}
