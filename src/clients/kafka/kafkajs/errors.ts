import type { DownstreamError } from '../../../errors.js';
import { kafkaError, rootCause } from '../errors.js';

/** kafkajs marks these non-retriable by class, yet they only mean "not now": a broker restarting, a lock held. */
const TRANSIENT = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
]);

const nameOf = (err: unknown): string => (err instanceof Error ? err.name : '');

/**
 * Whether retrying may help, from a kafkajs error. Protocol errors carry the broker's verdict in
 * `retriable`; "retries exceeded" is as retriable as what it gave up on (kafkajs' own consumer
 * restarts on the same rule); anything that is not a kafkajs error is a bug and is not retried.
 */
export function isRetriableKafkajsError(err: unknown): boolean {
  const root = rootCause(err);
  if (TRANSIENT.has(nameOf(err)) || TRANSIENT.has(nameOf(root))) return true;
  if (nameOf(err) === 'KafkaJSNumberOfRetriesExceeded') return (root as { retriable?: unknown }).retriable === true;
  if (!nameOf(err).startsWith('KafkaJS')) return false;
  return (err as { retriable?: unknown }).retriable === true;
}

export function fromKafkajs(operation: string, err: unknown): DownstreamError {
  return kafkaError('kafkajs', operation, err, isRetriableKafkajsError(err));
}

/** Run a kafkajs call, turning its failure into weir's error. */
export async function kafkajsCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw fromKafkajs(operation, err);
  }
}
