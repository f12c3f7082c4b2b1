/**
 * weir's Kafka client: one factory, two adapters behind the same narrow interface (see types.ts).
 *
 *   const kafka = createKafkaClient({ adapter: 'kafkajs', brokers: ['127.0.0.1:19092'], clientId: 'weir' });
 *   const producer = kafka.producer({ compression: 'gzip' });
 *   await producer.send('samples', [{ key, value }]);
 */
import { resolveClientConfig, type KafkaClientConfig } from './config.js';
import { createConfluentClient } from './confluent/client.js';
import type { ModuleLoader } from './confluent/load.js';
import { createKafkajsClient } from './kafkajs/client.js';
import type { KafkaClient } from './types.js';

export interface KafkaClientDependencies {
  /** How the optional confluent package is loaded; tests replace it to simulate its absence. */
  loadModule?: ModuleLoader;
}

/**
 * Build a client for `config.adapter`. Throws `ConfigError` for invalid config, and for adapter
 * 'confluent' when `@confluentinc/kafka-javascript` is not installed or not built. Nothing connects yet.
 */
export function createKafkaClient(config: KafkaClientConfig, deps: KafkaClientDependencies = {}): KafkaClient {
  const resolved = resolveClientConfig(config);
  return resolved.adapter === 'confluent' ? createConfluentClient(resolved, deps.loadModule) : createKafkajsClient(resolved);
}

export { chooseKafkaAdapter, type ChosenAdapter, type KafkaAdapterChoice } from './adapter-choice.js';
export {
  clientConfigProblems,
  consumerOptionProblems,
  producerOptionProblems,
  COMPRESSION_SUPPORT,
  KAFKA_ADAPTERS,
  KAFKA_COMPRESSIONS,
} from './config.js';
export type { ConsumerOptions, KafkaClientConfig, KafkaLogger, KafkaLogLevel, ProducerOptions } from './config.js';
export type * from './types.js';
