import { randomUUID } from 'node:crypto';
import { createKafkaClient, type KafkaAdapterName } from '../../src/clients/kafka/index.js';
import { decodeIndexEvents } from '../../src/events/index-event.js';

export const kafkaBrokers = () => process.env.WEIR_KAFKA_BROKERS ?? '127.0.0.1:19092';

/** A name no other test (or earlier run) uses. */
export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Total records ever written to a topic: the sum of its partitions' high watermarks. */
export async function topicRecordCount(topic: string, adapter: KafkaAdapterName = 'kafkajs'): Promise<number> {
  const admin = createKafkaClient({ adapter, brokers: kafkaBrokers().split(','), clientId: 'weir-test' }).admin();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** What a topic of weir.v1.IndexEvents holds, every record read back and decoded (hashes checked). */
export interface TopicEvents {
  records: number;
  series: number;
  metadata: number;
  /** Records that could not be decoded, and series whose hash does not match their labels. */
  corrupt: number;
}

/** Reads a topic of series events from the start to its current end, in a consumer group of its own. */
export async function readTopicEvents(topic: string, brokers = kafkaBrokers(), timeoutMs = 120_000): Promise<TopicEvents> {
  const client = createKafkaClient({ adapter: 'kafkajs', brokers: brokers.split(','), clientId: 'weir-test', logLevel: 'nothing' });
  const admin = client.admin();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const reached = new Map<number, bigint>();
  const consumer = client.consumer({ groupId: `weir-read-back-${randomUUID()}`, topics: [topic], startFrom: 'earliest', maxBatchMessages: 10_000 });
  const result: TopicEvents = { records: 0, series: 0, metadata: 0, corrupt: 0 };
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const check = () => {
    if (ends.every(({ partition, high }) => (reached.get(partition) ?? 0n) >= BigInt(high))) done();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.start({
      async onBatch(batch) {
        const decoded = decodeIndexEvents(batch.messages.map((m) => m.value));
        result.records += batch.messages.length;
        result.series += decoded.batch.series.length;
        result.metadata += decoded.batch.metadata.length;
        result.corrupt += decoded.corrupt.length;
        reached.set(batch.partition, BigInt(batch.nextOffset));
        check();
      },
    });
    check();
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`reading ${topic} back: not at its end after ${timeoutMs} ms`)), timeoutMs)));
    await Promise.race([finished, timeout]);
  } finally {
    clearTimeout(timer);
    await consumer.stop().catch(() => undefined);
  }
  return result;
}

export async function deleteTopic(topic: string): Promise<void> {
  const admin = createKafkaClient({ adapter: 'kafkajs', brokers: kafkaBrokers().split(','), clientId: 'weir-test' }).admin();
  try {
    await admin.deleteTopic(topic);
  } finally {
    await admin.disconnect();
  }
}

/** Poll until `check` returns a value that passes, or fail with the last value seen. */
export async function eventually<T>(check: () => Promise<T>, ok: (v: T) => boolean, { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await check();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await check();
  }
  return last;
}
