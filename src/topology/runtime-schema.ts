import { z } from 'zod';
import { duration } from '../config/units.js';
import type { RetryPolicy } from '../runtime/retry.js';

/**
 * The `runtime:` block every step may carry. Stages never see it: the compiler wraps them with it.
 * Written once here and shared by every stage (the Benthos habit of reusable field groups).
 */
export const retrySchema = z
  .strictObject({
    max_retries: z.number().int().min(0).max(1000).default(5).describe('Retries after the first attempt, for retriable errors only (timeouts, unreachable servers). 0 disables retries.'),
    initial_backoff: duration().prefault('100ms').describe('Delay before the first retry.'),
    max_backoff: duration().prefault('10s').describe('Upper bound of the delay between retries.'),
    multiplier: z.number().min(1).max(10).default(2).describe('Each retry waits this many times longer than the one before.'),
    jitter: z.number().min(0).max(1).default(0.2).describe('Share of each delay that is randomized so that retries spread out.'),
  })
  .describe('Exponential backoff with jitter; errors that cannot succeed on retry (invalid input) fail at once.');

export const runtimeSchema = z
  .strictObject({
    concurrency: z.number().int().min(1).max(1024).default(4).describe('Batches this step works on at the same time.'),
    retry: retrySchema.prefault({}),
    timeout: duration().optional().describe('Fail an attempt that takes longer than this (retriable). Unset: no timeout.'),
  })
  .describe('How the runtime wraps this step: concurrency, retries and timeout.');

export type RuntimeConfig = z.output<typeof runtimeSchema>;

export function toRetryPolicy(r: RuntimeConfig['retry']): RetryPolicy {
  return {
    maxRetries: r.max_retries,
    initialBackoffMs: r.initial_backoff,
    maxBackoffMs: r.max_backoff,
    multiplier: r.multiplier,
    jitter: r.jitter,
  };
}

/** Names of steps, pipelines and resources: used in metrics labels, spans and YAML references. */
export const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'use lower-case letters, digits and underscores, starting with a letter');

export const pipelineOptionsSchema = z.strictObject({
  max_in_flight: z.number().int().min(1).max(100_000).default(256).describe('Batches (requests, windows) the pipeline holds at once; every mailbox between its steps is bounded by this. When full, the source slows down: HTTP answers 503 with Retry-After, Kafka pauses.'),
  description: z.string().optional().describe('What this pipeline is for.'),
});
