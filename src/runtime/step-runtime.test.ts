import { trace } from '@opentelemetry/api';
import { delay, EMPTY, filter, map, mergeMap, of, Subject, throwError, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { DownstreamError, InvalidInputError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { Delivery } from './delivery.js';
import { Message } from './message.js';
import { RuntimeMetrics } from './metrics.js';
import { backoffDelayMs, defaultRetryPolicy, type RetryPolicy } from './retry.js';
import { runStep } from './step-runtime.js';

const noRetry: RetryPolicy = { ...defaultRetryPolicy, maxRetries: 0 };
const fastRetry: RetryPolicy = { maxRetries: 3, initialBackoffMs: 1, maxBackoffMs: 5, multiplier: 2, jitter: 0 };

function options(overrides: Partial<Parameters<typeof runStep>[1]> = {}) {
  return {
    pipeline: 'p',
    stage: 's',
    type: 't',
    concurrency: 4,
    retry: noRetry,
    metrics: new RuntimeMetrics(),
    tracer: trace.getTracer('test'),
    logger: silentLogger(),
    ...overrides,
  };
}

/** Push messages through steps the way the compiler does, acknowledging at the end. */
function pipeline(steps: Array<OperatorFunction<Message<any>, Message<any>>>, opts = options()) {
  const input = new Subject<Message<any>>();
  let graph$ = input.asObservable();
  for (const step of steps) graph$ = graph$.pipe(runStep(step, opts));
  const reachedEnd: unknown[] = [];
  graph$.subscribe((m) => {
    reachedEnd.push(m.payload);
    m.delivery.release();
  });
  const send = (payload: unknown) => {
    const delivery = new Delivery();
    delivery.hold();
    input.next(new Message(payload, delivery));
    return delivery;
  };
  return { send, reachedEnd };
}

describe('runStep', () => {
  it('acknowledges a delivery only after the last step emitted it', async () => {
    const gate = new Subject<void>();
    const slowSink: OperatorFunction<Message<number>, Message<number>> = mergeMap((m) => new Promise<Message<number>>((r) => gate.subscribe(() => r(m))));
    const { send, reachedEnd } = pipeline([map((m: Message<number>) => m.with(m.payload * 2)), slowSink]);
    const delivery = send(21);
    let acked = false;
    void delivery.done.then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(acked).toBe(false);
    gate.next();
    await delivery.done;
    expect(acked).toBe(true);
    expect(reachedEnd).toEqual([42]);
  });

  it('acknowledges a batch a step drops (nothing left to deliver)', async () => {
    const { send, reachedEnd } = pipeline([filter(() => false), map((m: Message<unknown>) => m)]);
    await expect(send('x').done).resolves.toBeUndefined();
    expect(reachedEnd).toEqual([]);
  });

  it('holds the delivery open until every fanned-out piece is acknowledged', async () => {
    const split = mergeMap((m: Message<number[]>) => m.payload.map((n) => m.with(n)));
    const slow = mergeMap((m: Message<number>) => of(m).pipe(delay(m.payload)));
    const { send, reachedEnd } = pipeline([split, slow]);
    await send([5, 1, 3]).done;
    expect(reachedEnd.sort()).toEqual([1, 3, 5]);
  });

  it('fails the delivery on a non-retriable error without retrying, and keeps the pipeline running', async () => {
    let attempts = 0;
    const step = mergeMap((m: Message<string>) => {
      attempts += 1;
      return m.payload === 'bad' ? throwError(() => new InvalidInputError('bad input')) : of(m);
    });
    const { send, reachedEnd } = pipeline([step], options({ retry: fastRetry }));
    await expect(send('bad').done).rejects.toThrow('bad input');
    expect(attempts).toBe(1);
    await send('good').done;
    expect(reachedEnd).toEqual(['good']);
  });

  it('retries retriable errors, then succeeds', async () => {
    let attempts = 0;
    const flaky = mergeMap((m: Message<string>) => (++attempts < 3 ? throwError(() => new DownstreamError('broker away')) : of(m)));
    const metrics = new RuntimeMetrics();
    const { send } = pipeline([flaky], options({ retry: fastRetry, metrics }));
    await send('x').done;
    expect(attempts).toBe(3);
    expect((await metrics.retries.get()).values[0].value).toBe(2);
  });

  it('fails after the last retry', async () => {
    let attempts = 0;
    const down = mergeMap(() => {
      attempts += 1;
      return throwError(() => new DownstreamError('still down'));
    });
    const { send } = pipeline([down], options({ retry: fastRetry }));
    await expect(send('x').done).rejects.toThrow('still down');
    expect(attempts).toBe(fastRetry.maxRetries + 1);
  });

  it('turns a step that takes too long into a retriable timeout', async () => {
    const never = mergeMap(() => new Promise<Message<unknown>>(() => undefined));
    const { send } = pipeline([never], options({ timeoutMs: 5 }));
    await expect(send('x').done).rejects.toThrow(/no result within 5 ms/);
  });

  it('works on at most `concurrency` batches at once', async () => {
    let running = 0;
    let peak = 0;
    const step = mergeMap(async (m: Message<unknown>) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 2));
      running -= 1;
      return m;
    });
    const { send } = pipeline([step], options({ concurrency: 2 }));
    await Promise.all(Array.from({ length: 10 }, (_, i) => send(i).done));
    expect(peak).toBe(2);
  });

  it('skips work for a delivery that already failed elsewhere', async () => {
    let ran = 0;
    const count = map((m: Message<unknown>) => {
      ran += 1;
      return m;
    });
    const input = new Subject<Message<unknown>>();
    input.pipe(runStep(count, options())).subscribe((m) => m.delivery.release());
    const d = new Delivery();
    d.hold();
    d.fail(new Error('other branch failed'));
    input.next(new Message('x', d));
    expect(ran).toBe(0);
    await expect(d.done).rejects.toThrow('other branch failed');
    void EMPTY;
  });

  it('shows batches by outcome, in-flight work and durations in the metrics when they are read', async () => {
    const opts = options();
    const gate = new Subject<void>();
    const held: OperatorFunction<Message<number>, Message<number>> = mergeMap((m) => (m.payload < 0 ? throwError(() => new InvalidInputError('negative')) : m.payload === 0 ? EMPTY : new Promise<Message<number>>((r) => gate.subscribe(() => r(m)))));
    const { send } = pipeline([held], opts);
    const read = async () => (await opts.metrics.registry.metrics()).split('\n');
    const pending = send(1);
    await send(0).done;
    await send(-1).done.catch(() => undefined);
    expect(await read()).toEqual(expect.arrayContaining(['weir_stage_in_flight{pipeline="p",stage="s",type="t"} 1', 'weir_stage_batches_total{pipeline="p",stage="s",type="t",outcome="dropped"} 1', 'weir_stage_batches_total{pipeline="p",stage="s",type="t",outcome="error"} 1']));
    gate.next();
    await pending.done;
    const after = await read();
    expect(after).toEqual(expect.arrayContaining(['weir_stage_in_flight{pipeline="p",stage="s",type="t"} 0', 'weir_stage_batches_total{pipeline="p",stage="s",type="t",outcome="ok"} 1', 'weir_stage_batches_total{pipeline="p",stage="s",type="t",outcome="dropped"} 1', 'weir_stage_duration_seconds_count{pipeline="p",stage="s",type="t"} 3']));
  });
});

describe('retry backoff', () => {
  it('grows exponentially up to the cap, spread by jitter', () => {
    const policy: RetryPolicy = { maxRetries: 10, initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 2, jitter: 0.2 };
    expect(backoffDelayMs(policy, 1, () => 0.5)).toBe(100);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(400);
    expect(backoffDelayMs(policy, 8, () => 0.5)).toBe(1000);
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(80);
    expect(backoffDelayMs(policy, 1, () => 1)).toBe(120);
  });

  it('waits 10, 20, 40 ms between attempts (marble time)', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const policy: RetryPolicy = { maxRetries: 3, initialBackoffMs: 10, maxBackoffMs: 1000, multiplier: 2, jitter: 0 };
      let attempts = 0;
      const flaky = mergeMap((m: Message<string>) => (++attempts <= 3 ? throwError(() => new DownstreamError('x')) : of(m)));
      const delivery = new Delivery();
      delivery.hold();
      const out = cold('a|', { a: new Message('v', delivery) }).pipe(
        runStep(flaky, options({ retry: policy })),
        map((m) => m.payload),
      );
      // first attempt at 0, retries at 10, 30 and 70 ms: the last one succeeds.
      expectObservable(out).toBe('70ms (v|)', { v: 'v' });
    });
  });

});
