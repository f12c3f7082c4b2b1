/** The kafkajs adapter: pure JavaScript, always installed. */
import kafkajs from 'kafkajs';
import { COMPRESSION_SUPPORT, retriesWithin, resolveConsumerOptions, resolveProducerOptions } from '../config.js';
import type { KafkaLogger, KafkaLogLevel, ResolvedClientConfig } from '../config.js';
import type { KafkaClient } from '../types.js';
import { KafkajsAdmin } from './admin.js';
import { KafkajsConsumer } from './consumer.js';
import { KafkajsProducer } from './producer.js';

const { Kafka, logLevel } = kafkajs;

const LEVELS: Record<KafkaLogLevel, kafkajs.logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

function logCreator(logger: KafkaLogger): kafkajs.logCreator {
  return () => ({ namespace, level, log }) => {
    const { message, ...fields } = log;
    const entry = { lib: 'kafkajs', namespace, ...fields };
    if (level <= logLevel.ERROR) logger.error(entry, message);
    else if (level === logLevel.WARN) logger.warn(entry, message);
    else if (level === logLevel.INFO) logger.info(entry, message);
    else logger.debug(entry, message);
  };
}

export function createKafkajsClient(config: ResolvedClientConfig): KafkaClient {
  // Retries bounded by time, not count, so a broker restart is ridden out the same way by both adapters.
  const retry = { initialRetryTime: 250, maxRetryTime: 5_000, retries: retriesWithin(config.retryForMs) };
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    retry,
    logLevel: LEVELS[config.logLevel],
    logCreator: logCreator(config.logger),
  });
  return {
    adapter: 'kafkajs',
    capabilities: { compression: COMPRESSION_SUPPORT.kafkajs, revokeBlocksRebalance: false },
    producer: (options) => new KafkajsProducer(kafka, resolveProducerOptions('kafkajs', options), retry),
    consumer: (options) => new KafkajsConsumer(kafka, resolveConsumerOptions(options), retry),
    admin: () => new KafkajsAdmin(kafka, config.requestTimeoutMs),
  };
}
