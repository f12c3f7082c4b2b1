import { SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { catchError, defer, EMPTY, finalize, mergeMap, of, retry, tap, timeout, throwError, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import { DownstreamError, isRetriable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Message } from './message.js';
import type { RuntimeMetrics } from './metrics.js';
import { retryNotifier, type RetryPolicy } from './retry.js';

export interface StepRuntimeOptions {
  pipeline: string;
  stage: string;
  type: string;
  concurrency: number;
  retry: RetryPolicy;
  timeoutMs?: number;
  metrics: RuntimeMetrics;
  tracer: Tracer;
  logger: Logger;
}

/**
 * Wraps one step's operator with everything stages must not know about: it runs the operator on
 * one message at a time (up to `concurrency` at once), retries retriable errors with backoff,
 * bounds each attempt by a timeout, records a span and metrics, and moves the delivery's hold
 * from the input message to whatever the step emits. A failure after retries fails the delivery
 * (the source reports it) and the pipeline goes on with the next batch.
 */
export function runStep(operator: OperatorFunction<Message<any>, Message<any>>, o: StepRuntimeOptions): MonoTypeOperatorFunction<Message<any>> {
  const labels = { pipeline: o.pipeline, stage: o.stage, type: o.type };
  const meter = o.metrics.stepMeter(labels);
  return mergeMap((input: Message<any>) => {
    if (input.delivery.isSettled) {
      // Another branch of this delivery already failed: no point doing the work.
      input.delivery.release();
      return EMPTY;
    }
    const span = o.tracer.startSpan(`${o.pipeline}.${o.stage}`, { attributes: { 'weir.pipeline': o.pipeline, 'weir.stage': o.stage, 'weir.stage.type': o.type } }, input.traceContext);
    const message = input.withTraceContext(trace.setSpan(input.traceContext, span));
    const started = performance.now();
    meter.inFlight += 1;
    let emitted = 0;
    let failed = false;

    let attempt$ = defer(() => of(message).pipe(operator));
    if (o.timeoutMs !== undefined) {
      const ms = o.timeoutMs;
      attempt$ = attempt$.pipe(timeout({ each: ms, with: () => throwError(() => new DownstreamError(`${o.stage}: no result within ${ms} ms`, { retriable: true })) }));
    }
    return attempt$.pipe(
      retry({
        delay: retryNotifier(o.retry, (err, attempt) => {
          o.metrics.retries.inc(labels);
          o.logger.warn({ ...labels, attempt, err: describe(err) }, 'retrying after a retriable error');
        }),
      }),
      tap((out) => {
        emitted += 1;
        out.delivery.hold();
      }),
      catchError((err: unknown) => {
        failed = true;
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: describe(err) });
        const log = isRetriable(err) || !(err instanceof Error) || err.name !== 'InvalidInputError' ? o.logger.warn.bind(o.logger) : o.logger.debug.bind(o.logger);
        log({ ...labels, err: describe(err) }, 'batch failed');
        input.delivery.fail(err);
        return EMPTY;
      }),
      finalize(() => {
        meter.inFlight -= 1;
        o.metrics.duration.observe(labels, (performance.now() - started) / 1000);
        meter.finished[failed ? 'error' : emitted > 0 ? 'ok' : 'dropped'] += 1;
        span.setAttribute('weir.emitted', emitted);
        span.end();
        input.delivery.release();
      }),
    );
  }, o.concurrency);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * A stream-mode step (a window) manages deliveries itself; the runtime only counts what it
 * emits, so it shows up in the same metrics as every other step.
 */
export function runStreamStep(
  operator: OperatorFunction<Message<any>, Message<any>>,
  o: { pipeline: string; stage: string; type: string; metrics: RuntimeMetrics },
): MonoTypeOperatorFunction<Message<any>> {
  const meter = o.metrics.stepMeter({ pipeline: o.pipeline, stage: o.stage, type: o.type });
  return (source) =>
    source.pipe(
      operator,
      tap(() => {
        meter.finished.ok += 1;
      }),
    );
}
