import { afterEach, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { DownstreamError } from '../../../errors.js';
import { settle, startSource, type RunningSource } from '../../stage-harness.test-support.js';
import { fakeKafka, recordBatch, type FakeKafka } from './fake-kafka.test-support.js';
import { kafkaSource, type kafkaSourceConfig } from './stage.js';

const topic = 'samples';

/** The source on a fake cluster, once its consumer handled the first assignment. */
async function start(config: Partial<z.input<typeof kafkaSourceConfig>> = {}, kafka: FakeKafka = fakeKafka({ topic, partitions: 2 }), maxInFlight = 64): Promise<RunningSource> {
  const source = startSource(kafkaSource, { kafka: 'cluster', topic, group_id: 'weir', ...config }, { resources: { cluster: kafka.resource }, maxInFlight });
  await kafka.consumer.started;
  return source;
}

const commit = (partition: number, offset: string) => ({ topic, partition, offset });

/** Whether `promise` settled by now. */
async function isDone(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await settle();
  return done;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('kafka source', () => {
  it('joins the group with its config and hands on each fetched batch as one message', async () => {
    const kafka = fakeKafka({ topic, partitions: 2 });
    const source = await start({ max_batch_messages: 3 }, kafka);
    expect(kafka.consumer.options).toEqual({ groupId: 'weir', topics: [topic], startFrom: 'earliest', maxBatchMessages: 3 });
    await kafka.consumer.fetch(0, 0, 3);
    await kafka.consumer.fetch(1, 10, 2);
    expect(source.emitted.map((m) => m.payload)).toEqual([recordBatch(topic, 0, 0, 3), recordBatch(topic, 1, 10, 2)]);
    expect(source.flow.used).toBe(2);
  });

  it('commits a batch only once its delivery is acknowledged, and returns its credit', async () => {
    const kafka = fakeKafka({ topic, partitions: 1 });
    const source = await start({}, kafka);
    await kafka.consumer.fetch(0, 0, 3);
    await settle();
    expect(kafka.consumer.commits).toEqual([]);
    source.emitted[0].delivery.release();
    await settle();
    expect(kafka.consumer.commits).toEqual([commit(0, '3')]);
    expect(source.flow.used).toBe(0);
  });

  it('commits in offset order per partition: a later batch acknowledged first waits for the earlier one', async () => {
    const kafka = fakeKafka({ topic, partitions: 2 });
    const source = await start({}, kafka);
    await kafka.consumer.fetch(0, 0, 3);
    await kafka.consumer.fetch(0, 3, 2);
    await kafka.consumer.fetch(1, 0, 1);
    const [first, second, other] = source.emitted;
    second.delivery.release();
    await settle();
    expect(kafka.consumer.commits).toEqual([]);
    other.delivery.release();
    await settle();
    expect(kafka.consumer.commits).toEqual([commit(1, '1')]);
    first.delivery.release();
    await settle();
    expect(kafka.consumer.commits).toEqual([commit(1, '1'), commit(0, '5')]);
  });

  it('rewinds a partition to a batch that failed, and commits nothing read after it until it is read again', async () => {
    const kafka = fakeKafka({ topic, partitions: 1 });
    const source = await start({}, kafka);
    await kafka.consumer.fetch(0, 0, 3);
    await kafka.consumer.fetch(0, 3, 3);
    const [failed, after] = source.emitted;
    failed.delivery.fail(new DownstreamError('index unreachable'));
    await settle();
    expect(kafka.consumer.seeks).toEqual([commit(0, '0')]);
    after.delivery.release();
    await settle();
    expect(kafka.consumer.commits).toEqual([]);
    await kafka.consumer.fetch(0, 0, 6);
    source.emitted[2].delivery.release();
    await settle();
    expect(kafka.consumer.commits).toEqual([commit(0, '6')]);
    expect(source.flow.used).toBe(0);
  });

  it('pauses every assigned partition while the pipeline has no credit left, and resumes once one comes back', async () => {
    const kafka = fakeKafka({ topic, partitions: 2 });
    const source = await start({}, kafka, 2);
    await kafka.consumer.fetch(0, 0, 1);
    expect(kafka.consumer.paused).toEqual(new Set());
    await kafka.consumer.fetch(1, 0, 1);
    expect(kafka.consumer.paused).toEqual(new Set([0, 1]));
    source.emitted[1].delivery.release();
    await settle();
    expect(source.flow.used).toBe(1);
    expect(kafka.consumer.paused).toEqual(new Set());
  });

  it('pauses newly assigned partitions when the pipeline is full', async () => {
    const kafka = fakeKafka({ topic, partitions: 2, assigned: [0] });
    const source = await start({}, kafka, 1);
    await kafka.consumer.fetch(0, 0, 1);
    await kafka.consumer.assign([0, 1]);
    expect(kafka.consumer.paused).toEqual(new Set([0, 1]));
    source.emitted[0].delivery.release();
    await settle();
    expect(kafka.consumer.paused).toEqual(new Set());
  });

  describe('on a revoke', () => {
    it('asks steps to flush, and waits for the revoked partitions’ batches to be acknowledged and committed', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const kafka = fakeKafka({ topic, partitions: 2 });
      const source = await start({}, kafka);
      await kafka.consumer.fetch(0, 0, 3);
      await kafka.consumer.fetch(1, 0, 2);
      const revoked = kafka.consumer.revoke([0]);
      expect(source.flushes).toBe(1);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(await isDone(revoked)).toBe(false);
      source.emitted[0].delivery.release();
      await vi.advanceTimersByTimeAsync(20);
      expect(await isDone(revoked)).toBe(true);
      // Partition 1 stays: its batch is not waited for.
      expect(kafka.consumer.commits).toEqual([commit(0, '3')]);
    });

    it('gives up after revoke_timeout, and a batch acknowledged later commits nothing', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const kafka = fakeKafka({ topic, partitions: 1 });
      const source = await start({ revoke_timeout: '2s' }, kafka);
      await kafka.consumer.fetch(0, 0, 3);
      const revoked = kafka.consumer.revoke([0]);
      await vi.advanceTimersByTimeAsync(1980);
      expect(await isDone(revoked)).toBe(false);
      await vi.advanceTimersByTimeAsync(20);
      expect(await isDone(revoked)).toBe(true);
      source.emitted[0].delivery.release();
      await settle();
      expect(kafka.consumer.commits).toEqual([]);
    });

    it('waits at most revoke_timeout for a commit that does not answer', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const kafka = fakeKafka({ topic, partitions: 1 });
      const source = await start({ revoke_timeout: '2s' }, kafka);
      kafka.consumer.commitGate = new Promise(() => undefined);
      await kafka.consumer.fetch(0, 0, 3);
      source.emitted[0].delivery.release();
      const revoked = kafka.consumer.revoke([0]);
      await vi.advanceTimersByTimeAsync(1980);
      expect(await isDone(revoked)).toBe(false);
      await vi.advanceTimersByTimeAsync(20);
      expect(await isDone(revoked)).toBe(true);
    });

    it('does not wait for partitions already lost', async () => {
      const kafka = fakeKafka({ topic, partitions: 1 });
      const source = await start({}, kafka);
      await kafka.consumer.fetch(0, 0, 3);
      expect(await isDone(kafka.consumer.revoke([0], 'lost'))).toBe(true);
      expect(source.flushes).toBe(0);
    });
  });

  describe('stop_at: end', () => {
    it('completes once every partition is committed up to its end offset as of the start, cutting the batch that goes past it', async () => {
      const kafka = fakeKafka({ topic, partitions: [{ partition: 0, low: '0', high: '5' }, { partition: 1, low: '0', high: '0' }] });
      const source = await start({ stop_at: 'end' }, kafka);
      expect(source.progress).toEqual([{ consumed: 0, total: 5 }]);
      await kafka.consumer.fetch(0, 0, 3);
      source.emitted[0].delivery.release();
      expect(await isDone(source.completed)).toBe(false);
      await kafka.consumer.fetch(0, 3, 4);
      expect(source.emitted[1].payload.messages.map((m: { offset: string }) => m.offset)).toEqual(['3', '4']);
      expect(source.emitted[1].payload.nextOffset).toBe('5');
      source.emitted[1].delivery.release();
      expect(await isDone(source.completed)).toBe(true);
      expect(kafka.consumer.commits).toEqual([commit(0, '3'), commit(0, '5')]);
      expect(source.progress.at(-1)).toEqual({ consumed: 5 });
    });

    it('completes at once, without joining the group, when there is nothing to read', async () => {
      const kafka = fakeKafka({ topic, partitions: [{ partition: 0, low: '7', high: '7' }] });
      const source = startSource(kafkaSource, { kafka: 'cluster', topic, group_id: 'weir', stop_at: 'end' }, { resources: { cluster: kafka.resource } });
      await source.completed;
      expect(await isDone(kafka.consumer.started)).toBe(false);
    });
  });

  describe('start_from', () => {
    it('seeks partitions to the given offsets at their first assignment only', async () => {
      const kafka = fakeKafka({ topic, partitions: 2 });
      await start({ start_from: '0:1200, 1:900' }, kafka);
      expect(kafka.consumer.seeks).toEqual([commit(0, '1200'), commit(1, '900')]);
      await kafka.consumer.revoke([0, 1]);
      await kafka.consumer.assign([0, 1]);
      expect(kafka.consumer.seeks).toHaveLength(2);
    });

    it('seeks to the first offsets at or after an RFC 3339 time', async () => {
      const kafka = fakeKafka({ topic, partitions: 2, offsetsAt: () => [{ partition: 0, offset: '40' }, { partition: 1, offset: '41' }] });
      await start({ start_from: '2027-01-15T10:00:00Z' }, kafka);
      expect(new Set(kafka.admin.timesAsked)).toEqual(new Set([Date.parse('2027-01-15T10:00:00Z')]));
      expect(kafka.consumer.seeks).toEqual([commit(0, '40'), commit(1, '41')]);
    });

    it('latest: starts a group without committed offsets at the end, and seeks nothing', async () => {
      const kafka = fakeKafka({ topic, partitions: 2 });
      await start({ start_from: 'latest' }, kafka);
      expect(kafka.consumer.options?.startFrom).toBe('latest');
      expect(kafka.consumer.seeks).toEqual([]);
    });
  });

  describe('a topic that does not exist', () => {
    const config = { kafka: 'cluster', topic, group_id: 'weir' };

    it('is created with create_topic_partitions', async () => {
      const kafka = fakeKafka({ topic, partitions: 0, topicExists: false, assigned: [0, 1, 2] });
      startSource(kafkaSource, { ...config, create_topic_partitions: 3 }, { resources: { cluster: kafka.resource } });
      expect(await isDone(kafka.consumer.started)).toBe(true);
      expect(kafka.admin.created).toEqual([{ topic, options: { partitions: 3 } }]);
    });

    it('is waited for otherwise', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const kafka = fakeKafka({ topic, partitions: 1, topicExists: false });
      startSource(kafkaSource, config, { resources: { cluster: kafka.resource } });
      await vi.advanceTimersByTimeAsync(5000);
      expect(await isDone(kafka.consumer.started)).toBe(false);
      kafka.admin.topics.set(topic, [{ partition: 0, low: '0', high: '0' }]);
      await vi.advanceTimersByTimeAsync(500);
      expect(await isDone(kafka.consumer.started)).toBe(true);
      expect(kafka.admin.created).toEqual([]);
    });
  });

  it('stops its consumer when the pipeline stops', async () => {
    const kafka = fakeKafka({ topic, partitions: 1 });
    const source = await start({}, kafka);
    source.stop();
    await settle();
    expect(kafka.consumer.stopped).toBe(true);
  });
});
