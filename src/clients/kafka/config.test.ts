import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.js';
import { createKafkaClient, type KafkaClientConfig } from './index.js';
import {
  clientConfigProblems,
  consumerOptionProblems,
  producerOptionProblems,
  resolveConsumerOptions,
  resolveProducerOptions,
  retriesWithin,
} from './config.js';

const valid: KafkaClientConfig = { adapter: 'kafkajs', brokers: ['127.0.0.1:19092'], clientId: 'weir' };

describe('Kafka client config', () => {
  it('accepts a minimal config', () => {
    expect(clientConfigProblems(valid)).toEqual([]);
  });

  it('reports every problem at once, each with its path', () => {
    const problems = clientConfigProblems(
      { adapter: 'rdkafka' as never, brokers: ['localhost', 'b:9092'], clientId: '', requestTimeoutMs: 0 },
      'sources.kafka.',
    );
    expect(problems.map((p) => p.path)).toEqual([
      'sources.kafka.adapter',
      'sources.kafka.brokers[0]',
      'sources.kafka.clientId',
      'sources.kafka.requestTimeoutMs',
    ]);
  });

  it('rejects an empty broker list', () => {
    expect(clientConfigProblems({ ...valid, brokers: [] })).toEqual([{ path: 'brokers', message: 'needs at least one host:port' }]);
  });

  it('throws a ConfigError from the factory rather than failing at first use', () => {
    expect(() => createKafkaClient({ ...valid, brokers: [] })).toThrow(ConfigError);
  });
});

describe('producer options', () => {
  it('tells kafkajs users which codecs they have instead of failing at send time', () => {
    const [problem] = producerOptionProblems('kafkajs', { compression: 'zstd' });
    expect(problem.path).toBe('compression');
    expect(problem.message).toContain('supports only none, gzip');
    expect(problem.message).toContain("adapter 'confluent'");
  });

  it('lets the confluent adapter use every codec', () => {
    for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
      expect(producerOptionProblems('confluent', { compression })).toEqual([]);
    }
  });

  it('throws the validation error when a kafkajs producer asks for lz4', () => {
    const client = createKafkaClient(valid);
    expect(() => client.producer({ compression: 'lz4' })).toThrow(/kafkajs adapter supports only none, gzip/);
  });

  it('defaults to an idempotent, uncompressed producer', () => {
    expect(resolveProducerOptions('kafkajs')).toEqual({ compression: 'none', idempotent: true, sendTimeoutMs: 30_000, lingerMs: 0 });
  });

  it('takes a linger of 0 ms or more', () => {
    expect(resolveProducerOptions('confluent', { lingerMs: 5 }).lingerMs).toBe(5);
    expect(producerOptionProblems('confluent', { lingerMs: -1 }).map((p) => p.path)).toEqual(['lingerMs']);
    expect(producerOptionProblems('confluent', { lingerMs: 1.5 }).map((p) => p.path)).toEqual(['lingerMs']);
  });
});

describe('consumer options', () => {
  it('needs a group and topics', () => {
    expect(consumerOptionProblems({ groupId: '', topics: [] }).map((p) => p.path)).toEqual(['groupId', 'topics']);
  });

  it('keeps the heartbeat below the session timeout', () => {
    const problems = consumerOptionProblems({ groupId: 'g', topics: ['t'], sessionTimeoutMs: 6_000, heartbeatIntervalMs: 6_000 });
    expect(problems.map((p) => p.path)).toEqual(['heartbeatIntervalMs']);
  });

  it('fills in defaults', () => {
    expect(resolveConsumerOptions({ groupId: 'g', topics: ['t'] })).toMatchObject({
      startFrom: 'earliest',
      maxBatchMessages: 1_000,
      fetchMaxWaitMs: 500,
    });
  });
});

describe('retriesWithin', () => {
  it('counts doubling backoff steps until they cover the budget', () => {
    // 250 + 500 + 1000 + 2000 + 4000 = 7750, then 5000 per step: 30 s needs 10 retries.
    expect(retriesWithin(30_000)).toBe(10);
    expect(retriesWithin(250)).toBe(1);
    expect(retriesWithin(251)).toBe(2);
  });
});
