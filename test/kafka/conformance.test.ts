/**
 * The Kafka conformance suite: the same checks against every adapter, on the real broker that
 * scripts/services.sh starts. Run: scripts/services.sh up && npx vitest run --project integration test/kafka
 * The confluent adapter needs its native module (scripts/install-confluent.sh); without it every
 * confluent test fails in beforeAll with the ConfigError that says so.
 */
import kafkajs from 'kafkajs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../src/clients/kafka/index.js';
import type { KafkaAdapterName, KafkaAdmin, KafkaClient, KafkaCompression } from '../../src/clients/kafka/index.js';
import { BROKERS, CapturedLog, FlowControlledConsumer, RecordingConsumer, makeMessages, restartBroker, retryRetriable, sleep, uniqueName, waitFor } from './support.js';

const adapters: KafkaAdapterName[] = ['kafkajs', 'confluent'];

/** The partition the Java client picks for a key (kafkajs' DefaultPartitioner is a port of it). */
function javaPartitionOf(key: Buffer, partitions: number): number {
  const partitioner = kafkajs.Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
  return partitioner({ topic: 'any', partitionMetadata, message: { key, value: null } });
}

describe.each(adapters)('Kafka client conformance: %s adapter', (adapter) => {
  let client: KafkaClient;
  let admin: KafkaAdmin;
  const cleanups: Array<() => Promise<void>> = [];
  const log = new CapturedLog();

  let setupError: unknown;

  beforeAll(async () => {
    try {
      client = createKafkaClient({ adapter, brokers: BROKERS, clientId: `weir-conformance-${adapter}`, logLevel: 'warn', logger: log });
      admin = client.admin();
      await admin.connect();
    } catch (err) {
      setupError = err;
    }
  });

  // A missing adapter (confluent not built) must fail every test, not skip them: vitest reports
  // tests under a failed beforeAll as skipped, so the failure is raised again before each test.
  beforeEach(() => {
    if (setupError) throw setupError;
  });

  // Consumers stop before their topics go, and before the next test (one left running would live
  // through the broker restart test and muddle it).
  afterEach(async (context) => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    const lines = log.take();
    if (context.task.result?.state === 'fail') console.error(`${adapter} client log:\n${lines.join('\n')}`);
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  async function newTopic(partitions: number): Promise<string> {
    const topic = uniqueName(`conformance-${adapter}`);
    expect(await admin.createTopic(topic, { partitions })).toBe(true);
    cleanups.push(() => admin.deleteTopic(topic));
    return topic;
  }

  function newConsumer(topic: string, groupId = uniqueName('group'), maxBatchMessages?: number): RecordingConsumer {
    const recorder = new RecordingConsumer(client, { groupId, topics: [topic], maxBatchMessages });
    cleanups.push(() => recorder.consumer.stop());
    return recorder;
  }

  function newProducer(compression: KafkaCompression = 'none') {
    const producer = client.producer({ compression });
    cleanups.push(() => producer.disconnect());
    return producer;
  }

  it('admin: creates, lists, reports watermarks for and deletes a topic', async () => {
    const topic = await newTopic(3);
    expect(await admin.listTopics()).toContain(topic);
    expect(await admin.createTopic(topic, { partitions: 3 })).toBe(false);
    await newProducer().send(topic, makeMessages(5, () => ({ partition: 1 })));
    expect(await admin.fetchTopicOffsets(topic)).toEqual([
      { partition: 0, low: '0', high: '0' },
      { partition: 1, low: '0', high: '5' },
      { partition: 2, low: '0', high: '0' },
    ]);
    await admin.deleteTopic(topic);
    // Deletion completes asynchronously on the controller; the listing catches up within moments.
    await waitFor('the deleted topic to leave the listing', async () => !(await admin.listTopics()).includes(topic), 10_000);
    const started = Date.now();
    await admin.deleteTopic(topic); // already gone: resolves, and without a retry budget's delay
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("gives a send's shared headers to messages without their own, and none when they are empty", async () => {
    const topic = await newTopic(2);
    const producer = newProducer();
    const shared = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    await producer.send(topic, makeMessages(20, (i) => (i % 5 === 0 ? { value: Buffer.from(`own-${i}`), headers: { own: String(i) } } : { value: Buffer.from(`shared-${i}`) })), { headers: shared });
    await producer.send(topic, makeMessages(5, (i) => ({ value: Buffer.from(`bare-${i}`) })), { headers: {} });
    const recorder = newConsumer(topic);
    await recorder.start();
    await recorder.waitForCount(25);
    for (const m of recorder.messages) {
      const value = m.value!.toString();
      if (value.startsWith('own-')) expect(m.headers).toEqual({ own: Buffer.from(value.slice(4)) });
      else if (value.startsWith('shared-')) expect(m.headers).toEqual({ traceparent: Buffer.from(shared.traceparent) });
      else expect(m.headers).toEqual({});
    }
  });

  it('produces with acks=all, and a group consumer gets every message with key, headers and timestamp', async () => {
    const topic = await newTopic(3);
    const sent = makeMessages(300, (i) => ({ headers: { index: String(i), raw: Buffer.from([i % 256]) }, timestamp: 1_700_000_000_000 + i }));
    await newProducer().send(topic, sent);
    // The send resolved, so every message is already acknowledged: the watermarks must add up.
    const highs = (await admin.fetchTopicOffsets(topic)).map((p) => Number(p.high));
    expect(highs.reduce((a, b) => a + b, 0)).toBe(300);

    const recorder = newConsumer(topic, undefined, 40);
    await recorder.start();
    await recorder.waitForCount(300);
    expect(recorder.values().sort()).toEqual(sent.map((m) => m.value.toString()).sort());
    const byValue = new Map(recorder.messages.map((m) => [m.value?.toString(), m]));
    for (const [i, m] of sent.entries()) {
      const got = byValue.get(m.value.toString());
      expect(got?.key?.toString()).toBe(`key-${i}`);
      expect(got?.headers.index.toString()).toBe(String(i));
      expect(got?.headers.raw).toEqual(Buffer.from([i % 256]));
      expect(got?.timestamp).toBe(1_700_000_000_000 + i);
    }
    for (const batch of recorder.batches) {
      expect(batch.messages.length).toBeGreaterThan(0);
      expect(batch.messages.length).toBeLessThanOrEqual(40);
      expect(batch.nextOffset).toBe(String(Number(batch.messages.at(-1)!.offset) + 1));
      expect(Number(batch.highWatermark)).toBeGreaterThanOrEqual(Number(batch.nextOffset));
    }
    // Keys are placed with the Java client's murmur2 partitioner by both adapters.
    for (const m of recorder.messages) expect(m.partition).toBe(javaPartitionOf(m.key!, 3));
  });

  it("sends more of one partition's bytes in one send than the broker takes in one batch (1 MiB)", async () => {
    const topic = await newTopic(2);
    // 6 × 300 KiB for partition 0 (past max.message.bytes together), and a little for partition 1.
    const big = Array.from({ length: 6 }, (_, i) => ({ key: null, value: Buffer.alloc(300 * 1024, 65 + i), partition: 0 }));
    await newProducer().send(topic, [...big, { key: null, value: Buffer.from('small'), partition: 1 }]);
    expect((await admin.fetchTopicOffsets(topic)).map((p) => Number(p.high))).toEqual([6, 1]);
  });

  it('compresses with every codec the adapter supports', async () => {
    for (const compression of client.capabilities.compression) {
      const topic = await newTopic(1);
      await newProducer(compression).send(topic, makeMessages(50, (i) => ({ value: Buffer.from(`${compression}-${i}-`.repeat(20)) })));
      const recorder = newConsumer(topic);
      await recorder.start();
      await recorder.waitForCount(50);
      expect(recorder.values()[49]).toBe(`${compression}-49-`.repeat(20));
    }
  });

  it('commits explicitly, and a new consumer of the group resumes right after the commit', async () => {
    const topic = await newTopic(1);
    await newProducer().send(topic, makeMessages(100));
    const groupId = uniqueName('group');
    const first = newConsumer(topic, groupId);
    await first.start();
    await first.waitForCount(100);
    await first.consumer.commit([{ topic, partition: 0, offset: '60' }]);
    await first.consumer.stop();

    const second = newConsumer(topic, groupId);
    await second.start();
    await second.waitForCount(40);
    await sleep(1_000); // anything before offset 60 would have arrived by now
    expect(second.messages.map((m) => m.offset)).toEqual(Array.from({ length: 40 }, (_, i) => String(60 + i)));
  });

  it('does not commit on its own: without a commit the group starts over', async () => {
    const topic = await newTopic(1);
    await newProducer().send(topic, makeMessages(20));
    const groupId = uniqueName('group');
    const first = newConsumer(topic, groupId);
    await first.start();
    await first.waitForCount(20);
    await first.consumer.stop();
    const second = newConsumer(topic, groupId);
    await second.start();
    await second.waitForCount(20);
    expect(second.messages[0].offset).toBe('0');
  });

  it('seeks to an offset', async () => {
    const topic = await newTopic(1);
    await newProducer().send(topic, makeMessages(50));
    const recorder = newConsumer(topic);
    await recorder.start();
    await recorder.waitForCount(50);
    recorder.consumer.seek(topic, 0, '10');
    await recorder.waitForCount(90);
    expect(recorder.messages.slice(50).map((m) => m.offset)).toEqual(Array.from({ length: 40 }, (_, i) => String(10 + i)));
  });

  it('seeks to a timestamp found with offsetsForTimes', async () => {
    const topic = await newTopic(2);
    const base = Date.now() - 3_600_000;
    await newProducer().send(topic, makeMessages(60, (i) => ({ partition: i % 2, timestamp: base + i * 1_000 })));
    // Partition 0 holds even i (offset i/2), partition 1 odd i. The first at or after i=40 is i=40 / i=41.
    expect(await admin.offsetsForTimes(topic, base + 39_500)).toEqual([
      { partition: 0, offset: '20' },
      { partition: 1, offset: '20' },
    ]);
    expect(await admin.offsetsForTimes(topic, Date.now() + 60_000)).toEqual([
      { partition: 0, offset: '30' },
      { partition: 1, offset: '30' },
    ]);

    const recorder = newConsumer(topic);
    await recorder.start();
    await recorder.waitForCount(60);
    for (const { partition, offset } of await admin.offsetsForTimes(topic, base + 50_000)) recorder.consumer.seek(topic, partition, offset);
    await recorder.waitForCount(70);
    await sleep(500);
    const replayed = recorder.messages.slice(60);
    expect(replayed).toHaveLength(10);
    expect(replayed.map((m) => m.timestamp).sort()).toEqual(Array.from({ length: 10 }, (_, i) => base + (50 + i) * 1_000));
  });

  it('pauses and resumes single partitions', async () => {
    const topic = await newTopic(2);
    const recorder = newConsumer(topic);
    await recorder.start();
    expect(recorder.consumer.assignment()).toEqual([
      { topic, partition: 0 },
      { topic, partition: 1 },
    ]);
    recorder.consumer.pause([{ topic, partition: 0 }]);
    await newProducer().send(topic, makeMessages(40, (i) => ({ partition: i % 2 })));
    await recorder.waitForCount(20);
    await sleep(1_500);
    expect(recorder.messages.every((m) => m.partition === 1)).toBe(true);
    expect(recorder.messages).toHaveLength(20);

    recorder.consumer.resume([{ topic, partition: 0 }]);
    await recorder.waitForCount(40);
    expect(recorder.messages.filter((m) => m.partition === 0)).toHaveLength(20);
  });

  // What the kafka source does when the pipeline is full. The confluent library once skipped the
  // messages it had prefetched for a partition when it was paused before any of them was handed out.
  it('pauses every partition while a bounded queue is full and resumes when it drains, many times, losing nothing', async () => {
    const partitions = 8;
    const perPartition = 1_000;
    const topic = await newTopic(partitions);
    const padding = 'x'.repeat(200);
    await newProducer().send(topic, makeMessages(partitions * perPartition, (i) => ({ partition: i % partitions, value: Buffer.from(`value-${i}-${padding}`) })));
    const groupId = uniqueName('group');
    const flow = new FlowControlledConsumer(client, { groupId, topics: [topic], maxBatchMessages: 50 });
    cleanups.push(() => flow.stop());
    await flow.start();
    await flow.waitForCount(partitions * perPartition);
    await flow.settle();
    expect(flow.pauses).toBeGreaterThan(5);
    for (let p = 0; p < partitions; p++) {
      expect(flow.offsets.get(p), `partition ${p}`).toEqual(Array.from({ length: perPartition }, (_, i) => i)); // in order, once each
    }
    expect(flow.errors).toEqual([]);
    await flow.stop();

    // Every commit landed: the group's next member starts at the end.
    const next = newConsumer(topic, groupId);
    await next.start();
    await newProducer().send(topic, makeMessages(partitions, (p) => ({ partition: p, value: Buffer.from(`after-${p}`) })));
    await next.waitForCount(partitions);
    await sleep(500);
    expect(next.messages.map((m) => m.offset)).toEqual(Array.from({ length: partitions }, () => String(perPartition)));
  });

  it('runs the revoke hook before partitions move, and offsets committed there are honoured', async () => {
    const topic = await newTopic(4);
    await newProducer().send(topic, makeMessages(100));
    const groupId = uniqueName('group');
    const first = newConsumer(topic, groupId);
    // What weir does: flush, then commit everything processed so far, before letting go.
    first.onRevoked = async (partitions) => first.consumer.commit(first.processedOffsets(partitions));
    await first.start();
    await first.waitForCount(100);

    const second = newConsumer(topic, groupId);
    await second.start();
    await waitFor('the first consumer to be assigned again', () => first.events.length >= 3);
    expect(first.events.map((e) => e.kind)).toEqual(['assigned', 'revoked', 'assigned']);
    expect(first.events[1]).toEqual({ kind: 'revoked', reason: 'rebalance', partitions: [0, 1, 2, 3].map((partition) => ({ topic, partition })) });
    const owned = [...first.consumer.assignment(), ...second.consumer.assignment()].map((tp) => tp.partition).sort();
    expect(owned).toEqual([0, 1, 2, 3]);
    expect(second.consumer.assignment().length).toBeGreaterThan(0);
    if (client.capabilities.revokeBlocksRebalance) {
      await sleep(1_000);
      expect(second.messages).toHaveLength(0); // it started exactly where the hook committed
    }

    await newProducer().send(topic, makeMessages(100, (i) => ({ value: Buffer.from(`after-${i}`) })));
    const after = () => [...first.values(), ...second.values()].filter((v) => v.startsWith('after-'));
    await waitFor('the messages sent after the rebalance', () => after().length >= 100);
    await sleep(500);
    expect(after().sort()).toEqual(Array.from({ length: 100 }, (_, i) => `after-${i}`).sort());

    await first.consumer.stop();
    expect(first.events.at(-1)).toMatchObject({ kind: 'revoked', reason: 'stop' });
    expect(first.errors).toEqual([]);
  });

  it('carries on after the broker restarts, with the same producer, consumer and admin', async () => {
    const topic = await newTopic(2);
    const producer = newProducer();
    const recorder = newConsumer(topic);
    await recorder.start();
    await producer.send(topic, makeMessages(20, (i) => ({ value: Buffer.from(`before-${i}`) })));
    await recorder.waitForCount(20);
    // Committed, so the group must not hand these out again, whatever rebalancing the restart causes.
    await recorder.consumer.commit(recorder.processedOffsets());

    await restartBroker();

    // Failures while the client reconnects must be retriable; retryRetriable fails on any other.
    await retryRetriable('send after restart', () => producer.send(topic, makeMessages(20, (i) => ({ value: Buffer.from(`after-${i}`) }))));
    const afterValues = () => new Set(recorder.values().filter((v) => v.startsWith('after-')));
    await waitFor('the messages sent after the restart', () => afterValues().size === 20, 60_000);
    expect(recorder.values().filter((v) => v.startsWith('before-'))).toHaveLength(20);
    await retryRetriable('commit after restart', () => recorder.consumer.commit(recorder.processedOffsets()));
    expect(await retryRetriable('list topics after restart', () => admin.listTopics())).toContain(topic);
    expect(recorder.errors.filter((e) => !('retriable' in e) || e.retriable !== true)).toEqual([]);
  });
});
