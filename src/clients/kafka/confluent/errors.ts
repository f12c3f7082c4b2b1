import type { DownstreamError } from '../../../errors.js';
import { kafkaError } from '../errors.js';

/**
 * librdkafka retries transient failures itself, so what reaches us is mostly final or a timeout.
 * These codes mean the request itself is wrong and will fail the same way again.
 */
const PERMANENT_CODES = [
  'ERR__INVALID_ARG',
  'ERR__INVALID_TYPE',
  'ERR__NOT_IMPLEMENTED',
  'ERR__UNSUPPORTED_FEATURE',
  'ERR__AUTHENTICATION',
  'ERR__FATAL',
  'ERR_INVALID_MSG',
  'ERR_MSG_SIZE_TOO_LARGE',
  'ERR_TOPIC_EXCEPTION',
  'ERR_RECORD_LIST_TOO_LARGE',
  'ERR_INVALID_REQUIRED_ACKS',
  'ERR_TOPIC_AUTHORIZATION_FAILED',
  'ERR_GROUP_AUTHORIZATION_FAILED',
  'ERR_CLUSTER_AUTHORIZATION_FAILED',
  'ERR_INVALID_TIMESTAMP',
  'ERR_UNSUPPORTED_VERSION',
  'ERR_TOPIC_ALREADY_EXISTS',
  'ERR_INVALID_PARTITIONS',
  'ERR_INVALID_REPLICATION_FACTOR',
  'ERR_INVALID_CONFIG',
  'ERR_POLICY_VIOLATION',
  'ERR_SASL_AUTHENTICATION_FAILED',
];

interface LibraryError {
  code?: unknown;
  fatal?: unknown;
  errors?: unknown;
}

/** Classifies errors by librdkafka code; `errorCodes` is the loaded module's name-to-number table. */
export function confluentErrorClassifier(errorCodes: Record<string, number>): (err: unknown) => boolean {
  const permanent = new Set(PERMANENT_CODES.map((name) => errorCodes[name]).filter((code) => code !== undefined));
  const isRetriable = (err: unknown): boolean => {
    const e = (err ?? {}) as LibraryError;
    // Aggregates (createTopics) are retriable only if every part is.
    if (Array.isArray(e.errors) && e.errors.length > 0) return e.errors.every(isRetriable);
    if (e.fatal === true) return false;
    if (typeof e.code !== 'number') return false; // not a Kafka error at all: a bug, not an outage
    return !permanent.has(e.code);
  };
  return isRetriable;
}

export type ConfluentErrorMapper = (operation: string, err: unknown) => DownstreamError;

export function confluentErrorMapper(errorCodes: Record<string, number>): ConfluentErrorMapper {
  const isRetriable = confluentErrorClassifier(errorCodes);
  return (operation, err) => kafkaError('confluent', operation, err, isRetriable(err));
}
