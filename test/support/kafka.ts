import { randomUUID } from 'node:crypto';
import { createKafkaClient, type KafkaAdapterName } from '../../src/clients/kafka/index.js';

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
