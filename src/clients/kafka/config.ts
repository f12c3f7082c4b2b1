/**
 * Kafka client configuration: raw options as a caller writes them, and the resolved form (defaults
 * filled in) the adapters read. Validation returns every problem at once so `weir lint` can list them.
 */
import { ConfigError, type ConfigProblem } from '../../errors.js';
import type { KafkaAdapterName, KafkaCompression } from './types.js';

export const KAFKA_ADAPTERS: readonly KafkaAdapterName[] = ['kafkajs', 'confluent'];
export const KAFKA_COMPRESSIONS: readonly KafkaCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** What each adapter can compress with, without extra codec packages. */
export const COMPRESSION_SUPPORT: Record<KafkaAdapterName, readonly KafkaCompression[]> = {
  // kafkajs ships only gzip; snappy/lz4/zstd need codec plugins registered globally, which weir does not do.
  kafkajs: ['none', 'gzip'],
  confluent: KAFKA_COMPRESSIONS,
};

/** pino's call shape (`logger.warn(fields, message)`), so weir's logger can be passed as is. */
export interface KafkaLogger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaClientConfig {
  adapter: KafkaAdapterName;
  /** `host:port` bootstrap brokers. */
  brokers: string[];
  clientId: string;
  /** Default 3000. */
  connectionTimeoutMs?: number;
  /** Default 30000. */
  requestTimeoutMs?: number;
  /**
   * How long the adapter itself keeps retrying a retriable failure (a broker restarting) before the
   * call rejects with a retriable `DownstreamError`. Default 30000.
   */
  retryForMs?: number;
  /** Default 'warn'. */
  logLevel?: KafkaLogLevel;
  /** Where the library's own log lines go; stderr when absent. */
  logger?: KafkaLogger;
}

export interface ProducerOptions {
  /** Default 'none'. kafkajs supports only 'none' and 'gzip'. */
  compression?: KafkaCompression;
  /** Broker-side de-duplication of retried sends within a producer session. Default true. */
  idempotent?: boolean;
  /** How long one `send` may take, retries included. Default 30000. */
  sendTimeoutMs?: number;
  /**
   * confluent only: how long librdkafka waits for more messages before a produce request, so that
   * concurrent sends share requests (librdkafka's linger.ms). kafkajs sends each call as it comes. Default 0.
   */
  lingerMs?: number;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a partition without a committed offset starts. Default 'earliest'. */
  startFrom?: 'earliest' | 'latest';
  /** Upper bound on `batch.messages.length`. Default 1000. */
  maxBatchMessages?: number;
  /** Default 30000. */
  sessionTimeoutMs?: number;
  /** Default 3000. */
  heartbeatIntervalMs?: number;
  /** How long the broker may hold a fetch waiting for data; bounds how late a pause/seek is noticed. Default 500. */
  fetchMaxWaitMs?: number;
  /** How long `start` waits for the first assignment. Default 60000. */
  joinTimeoutMs?: number;
}

export type ResolvedClientConfig = Required<KafkaClientConfig>;
export type ResolvedProducerOptions = Required<ProducerOptions>;
export type ResolvedConsumerOptions = Required<ConsumerOptions>;

const isPositiveInt = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n > 0;

function checkPositiveInts(values: Record<string, unknown>, prefix: string, problems: ConfigProblem[]): void {
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && !isPositiveInt(value)) {
      problems.push({ path: `${prefix}${name}`, message: `must be a positive integer, got ${String(value)}` });
    }
  }
}

export function clientConfigProblems(config: KafkaClientConfig, prefix = ''): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!KAFKA_ADAPTERS.includes(config.adapter)) {
    problems.push({ path: `${prefix}adapter`, message: `must be one of ${KAFKA_ADAPTERS.join(', ')}, got ${String(config.adapter)}` });
  }
  if (!Array.isArray(config.brokers) || config.brokers.length === 0) {
    problems.push({ path: `${prefix}brokers`, message: 'needs at least one host:port' });
  } else {
    config.brokers.forEach((broker, i) => {
      if (!/^[^\s:]+:\d{1,5}$/.test(broker)) {
        problems.push({ path: `${prefix}brokers[${i}]`, message: `expected host:port, got ${JSON.stringify(broker)}` });
      }
    });
  }
  if (!config.clientId) problems.push({ path: `${prefix}clientId`, message: 'must not be empty' });
  const { connectionTimeoutMs, requestTimeoutMs, retryForMs } = config;
  checkPositiveInts({ connectionTimeoutMs, requestTimeoutMs, retryForMs }, prefix, problems);
  return problems;
}

export function producerOptionProblems(adapter: KafkaAdapterName, options: ProducerOptions, prefix = ''): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const compression = options.compression ?? 'none';
  if (!KAFKA_COMPRESSIONS.includes(compression)) {
    problems.push({ path: `${prefix}compression`, message: `must be one of ${KAFKA_COMPRESSIONS.join(', ')}` });
  } else if (!COMPRESSION_SUPPORT[adapter]?.includes(compression)) {
    problems.push({
      path: `${prefix}compression`,
      message: `the ${adapter} adapter supports only ${COMPRESSION_SUPPORT[adapter]?.join(', ')}; use adapter 'confluent' for ${compression}`,
    });
  }
  checkPositiveInts({ sendTimeoutMs: options.sendTimeoutMs }, prefix, problems);
  if (options.lingerMs !== undefined && !(Number.isInteger(options.lingerMs) && options.lingerMs >= 0 && options.lingerMs <= 900_000)) {
    problems.push({ path: `${prefix}lingerMs`, message: `must be a whole number of ms from 0 to 900000, got ${String(options.lingerMs)}` });
  }
  return problems;
}

export function consumerOptionProblems(options: ConsumerOptions, prefix = ''): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!options.groupId) problems.push({ path: `${prefix}groupId`, message: 'must not be empty' });
  if (!Array.isArray(options.topics) || options.topics.length === 0 || options.topics.some((t) => !t)) {
    problems.push({ path: `${prefix}topics`, message: 'needs at least one non-empty topic name' });
  }
  if (options.startFrom !== undefined && options.startFrom !== 'earliest' && options.startFrom !== 'latest') {
    problems.push({ path: `${prefix}startFrom`, message: "must be 'earliest' or 'latest'" });
  }
  const { maxBatchMessages, sessionTimeoutMs, heartbeatIntervalMs, fetchMaxWaitMs, joinTimeoutMs } = options;
  checkPositiveInts({ maxBatchMessages, sessionTimeoutMs, heartbeatIntervalMs, fetchMaxWaitMs, joinTimeoutMs }, prefix, problems);
  const session = sessionTimeoutMs ?? 30_000;
  if ((heartbeatIntervalMs ?? 3_000) >= session) {
    problems.push({ path: `${prefix}heartbeatIntervalMs`, message: 'must be below sessionTimeoutMs (a third of it is usual)' });
  }
  return problems;
}

function throwIfProblems(what: string, problems: ConfigProblem[]): void {
  if (problems.length > 0) {
    throw new ConfigError(`invalid ${what}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
  }
}

/** A logger for when the caller gives none: warnings and errors as one line each on stderr. */
function stderrLogger(): KafkaLogger {
  const write = (level: string) => (fields: object, message: string) =>
    process.stderr.write(`kafka ${level}: ${message} ${JSON.stringify(fields)}\n`);
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') };
}

export function resolveClientConfig(config: KafkaClientConfig): ResolvedClientConfig {
  throwIfProblems('Kafka client config', clientConfigProblems(config));
  return {
    adapter: config.adapter,
    brokers: [...config.brokers],
    clientId: config.clientId,
    connectionTimeoutMs: config.connectionTimeoutMs ?? 3_000,
    requestTimeoutMs: config.requestTimeoutMs ?? 30_000,
    retryForMs: config.retryForMs ?? 30_000,
    logLevel: config.logLevel ?? 'warn',
    logger: config.logger ?? stderrLogger(),
  };
}

export function resolveProducerOptions(adapter: KafkaAdapterName, options: ProducerOptions = {}): ResolvedProducerOptions {
  throwIfProblems(`${adapter} producer options`, producerOptionProblems(adapter, options));
  return {
    compression: options.compression ?? 'none',
    idempotent: options.idempotent ?? true,
    sendTimeoutMs: options.sendTimeoutMs ?? 30_000,
    lingerMs: options.lingerMs ?? 0,
  };
}

export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  throwIfProblems('Kafka consumer options', consumerOptionProblems(options));
  return {
    groupId: options.groupId,
    topics: [...options.topics],
    startFrom: options.startFrom ?? 'earliest',
    maxBatchMessages: options.maxBatchMessages ?? 1_000,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
    fetchMaxWaitMs: options.fetchMaxWaitMs ?? 500,
    joinTimeoutMs: options.joinTimeoutMs ?? 60_000,
  };
}

/** Exponential backoff steps (kafkajs-style, doubling from `initialMs` up to `maxStepMs`) that fit in `totalMs`. */
export function retriesWithin(totalMs: number, initialMs = 250, maxStepMs = 5_000): number {
  let retries = 0;
  let spent = 0;
  let step = initialMs;
  while (spent < totalMs) {
    spent += step;
    retries += 1;
    step = Math.min(step * 2, maxStepMs);
  }
  return retries;
}
