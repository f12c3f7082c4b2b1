/** The confluent adapter: librdkafka through `@confluentinc/kafka-javascript` (its KafkaJS-style API; the callback API for producing). */
import { COMPRESSION_SUPPORT, resolveConsumerOptions, resolveProducerOptions } from '../config.js';
import type { KafkaLogger, KafkaLogLevel, ResolvedClientConfig } from '../config.js';
import type { KafkaClient } from '../types.js';
import { ConfluentAdmin } from './admin.js';
import type { ConfluentLogger } from './api.js';
import { ConfluentConsumer } from './consumer.js';
import { confluentErrorMapper } from './errors.js';
import { loadConfluentLibrary, type ModuleLoader } from './load.js';
import { ConfluentProducer } from './producer.js';

const RANK: Record<KafkaLogLevel, number> = { nothing: 0, error: 1, warn: 2, info: 3, debug: 4 };

/** librdkafka's log lines into weir's logger; the library does not filter for a custom logger. */
function bridgeLogger(logger: KafkaLogger, level: KafkaLogLevel): ConfluentLogger {
  const at = (rank: number, write: (fields: object, message: string) => void) => (message: string, extra?: object) => {
    if (RANK[level] >= rank) write({ lib: 'librdkafka', ...extra }, message);
  };
  const bridged: ConfluentLogger = {
    error: at(1, (f, m) => logger.error(f, m)),
    warn: at(2, (f, m) => logger.warn(f, m)),
    info: at(3, (f, m) => logger.info(f, m)),
    debug: at(4, (f, m) => logger.debug(f, m)),
    namespace: () => bridged,
    setLogLevel: () => undefined,
  };
  return bridged;
}

export function createConfluentClient(config: ResolvedClientConfig, load?: ModuleLoader): KafkaClient {
  const { kafkaJS: lib, Producer } = loadConfluentLibrary(load);
  const mapError = confluentErrorMapper(lib.ErrorCodes);
  const kafka = new lib.Kafka({
    kafkaJS: {
      clientId: config.clientId,
      brokers: config.brokers,
      connectionTimeout: config.connectionTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      logLevel: lib.logLevel.DEBUG,
      logger: bridgeLogger(config.logger, config.logLevel),
    },
  });
  return {
    adapter: 'confluent',
    capabilities: { compression: COMPRESSION_SUPPORT.confluent, revokeBlocksRebalance: true },
    producer: (options) => new ConfluentProducer(Producer, config, resolveProducerOptions('confluent', options), mapError),
    consumer: (options) => new ConfluentConsumer(lib, kafka, resolveConsumerOptions(options), mapError),
    admin: () => new ConfluentAdmin(kafka, config.requestTimeoutMs, mapError),
  };
}
