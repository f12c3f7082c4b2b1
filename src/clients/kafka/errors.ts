import { DownstreamError } from '../../errors.js';
import type { KafkaAdapterName } from './types.js';

/**
 * The one way adapter failures leave the Kafka client: a `DownstreamError` naming the adapter and the
 * operation, with the library's error as `cause`. Each adapter decides `retriable` from its own errors.
 */
export function kafkaError(adapter: KafkaAdapterName, operation: string, cause: unknown, retriable: boolean): DownstreamError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new DownstreamError(`kafka (${adapter}) ${operation} failed: ${reason}`, { cause, retriable });
}

/** Follow `cause` links to the first error, where libraries keep the broker's real answer. */
export function rootCause(err: unknown): unknown {
  let current = err;
  for (let depth = 0; depth < 10; depth += 1) {
    const next = (current as { cause?: unknown } | null)?.cause;
    if (next === undefined || next === null) return current;
    current = next;
  }
  return current;
}
