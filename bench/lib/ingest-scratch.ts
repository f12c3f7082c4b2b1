import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createKafkaClient } from '../../src/clients/kafka/index.js';
import { readTopicEvents } from '../../test/support/kafka.js';
import { deletePrefix } from '../../test/redis/support.js';
import { serviceUrls } from './child-weir.js';

/**
 * A fresh Kafka topic (created with several partitions before weir starts, as an operator would)
 * and a fresh Redis key prefix for one run of the ingest topology, so that nothing an earlier run
 * marked seen or produced blurs this one. Needs only Kafka and Redis (child-weir's createScratch
 * also opens MariaDB, which the ingest role does not use).
 */

export interface IngestScratch {
  topic: string;
  redisPrefix: string;
  /** WEIR_* variables for topology/ingest.yaml. */
  env: Record<string, string>;
  /** Records in the topic: the sum of its partitions' high watermarks. */
  records(): Promise<number>;
  /**
   * Series in the topic: every record read back (a consumer group of its own) and decoded, each
   * series' hash checked against its labels; throws if any record or series is corrupt.
   */
  series(): Promise<number>;
  /** Deletes the topic and the Redis keys; never throws. */
  cleanup(): Promise<void>;
}

export async function createIngestScratch(tag: string, partitions: number): Promise<IngestScratch> {
  const { kafkaBrokers, redisUrl } = serviceUrls();
  const suffix = randomBytes(4).toString('hex');
  const topic = `weir.bench.${tag}.${suffix}`;
  const redisPrefix = `weir:bench:${tag}:${suffix}`;
  const admin = createKafkaClient({ adapter: 'kafkajs', brokers: kafkaBrokers.split(','), clientId: 'weir-bench' }).admin();
  await admin.createTopic(topic, { partitions });
  return {
    topic,
    redisPrefix,
    env: { WEIR_KAFKA_BROKERS: kafkaBrokers, WEIR_REDIS_URL: redisUrl, WEIR_SERIES_TOPIC: topic, WEIR_REDIS_PREFIX: redisPrefix },
    async records() {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, o) => sum + Number(o.high), 0);
    },
    async series() {
      const back = await readTopicEvents(topic, kafkaBrokers);
      if (back.corrupt > 0) throw new Error(`${topic}: ${back.corrupt} corrupt records or series`);
      return back.series;
    },
    async cleanup() {
      const quietly = (work: () => Promise<unknown>) => work().catch(() => undefined);
      await quietly(() => admin.deleteTopic(topic));
      await quietly(() => admin.disconnect());
      await quietly(async () => {
        const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
        try {
          await redis.connect();
          await deletePrefix(redis, redisPrefix);
        } finally {
          redis.disconnect();
        }
      });
    },
  };
}
