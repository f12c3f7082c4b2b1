import { timer, type Observable, throwError } from 'rxjs';
import { isRetriable } from '../errors.js';

export interface RetryPolicy {
  /** Attempts after the first; 0 disables retries. */
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Multiplier applied per attempt. */
  multiplier: number;
  /** 0..1: share of each delay that is randomized, so retries of many messages spread out. */
  jitter: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 10_000,
  multiplier: 2,
  jitter: 0.2,
};

/** Exponential backoff with jitter for attempt `n` (1-based). */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** (attempt - 1));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/**
 * The `delay` notifier for RxJS `retry()`: retriable errors wait and retry, anything else fails
 * straight away (retrying a 400 only wastes time).
 */
export function retryNotifier(policy: RetryPolicy, onRetry?: (err: unknown, attempt: number) => void) {
  return (err: unknown, attempt: number): Observable<number> => {
    if (!isRetriable(err) || attempt > policy.maxRetries) return throwError(() => err);
    onRetry?.(err, attempt);
    return timer(backoffDelayMs(policy, attempt));
  };
}
