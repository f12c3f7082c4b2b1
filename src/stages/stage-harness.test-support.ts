import { trace, type Context } from '@opentelemetry/api';
import { firstValueFrom, from, lastValueFrom, NEVER, ReplaySubject, Subject, take, tap, toArray, type Observable, type OperatorFunction } from 'rxjs';
import type { z } from 'zod';
import type { HttpLimits } from '../edge/routes.js';
import { ConfigError, type InvalidInputDetail } from '../errors.js';
import { silentLogger } from '../logger.js';
import { Delivery } from '../runtime/delivery.js';
import { FlowControl } from '../runtime/flow-control.js';
import { Message } from '../runtime/message.js';
import { RuntimeMetrics } from '../runtime/metrics.js';
import type { ProcessorDeclaration, SourceDeclaration, StageContext } from '../topology/declaration.js';
import { wrapStep } from '../topology/compile.js';
import { runtimeSchema } from '../topology/runtime-schema.js';
import { FakeHttpRoutes } from './fake-http-routes.test-support.js';

/**
 * Runs one stage declaration as a topology would, without a topology: its config parsed by its
 * own schema (so defaults apply), a context of fakes, and inputs as a source hands them on.
 */

export interface HarnessOptions {
  pipeline?: string;
  /** The step's name; its type by default. */
  stage?: string;
  /** Resources by name, as `resources:` would have opened them (fakes, usually). */
  resources?: Record<string, unknown>;
  shutdown?: AbortSignal;
}

/** A StageContext of fakes: a silent logger, the given resources, a shutdown signal. */
export function stageContext(type: string, options: HarnessOptions & { flushRequests?: Observable<void> } = {}): StageContext {
  const resources = options.resources ?? {};
  return {
    pipeline: options.pipeline ?? 'test',
    stage: options.stage ?? type,
    logger: silentLogger(),
    resources: {
      get<R>(name: string): R {
        if (!(name in resources)) throw new ConfigError(`no resource named "${name}"`);
        return resources[name] as R;
      },
    },
    shutdown: options.shutdown ?? new AbortController().signal,
    flushRequests: options.flushRequests ?? NEVER,
  };
}

/** A message as a source emits it: its delivery held once. */
export function sourceMessage<T>(payload: T, traceContext?: Context): Message<T> {
  const delivery = new Delivery();
  delivery.hold();
  return new Message(payload, delivery, traceContext);
}

export type DeliveryOutcome =
  | { status: 'acknowledged'; rejected: InvalidInputDetail[] }
  | { status: 'failed'; error: unknown; rejected: InvalidInputDetail[] }
  | { status: 'pending' };

/** How a delivery ended, or `pending` while a hold is still taken. */
export async function outcomeOf(delivery: Delivery): Promise<DeliveryOutcome> {
  if (!delivery.isSettled) return { status: 'pending' };
  try {
    await delivery.done;
    return { status: 'acknowledged', rejected: [...delivery.rejected] };
  } catch (error) {
    return { status: 'failed', error, rejected: [...delivery.rejected] };
  }
}

export interface RunStageOptions extends HarnessOptions {
  /** Wrap the stage as the compiler does, with this `runtime:` block (`{}` for the defaults). */
  runtime?: z.input<typeof runtimeSchema>;
  /** Keep what the stage emits held (the test releases or fails it) instead of acknowledging it as the end of a pipeline does. */
  holdEmitted?: boolean;
  /** The trace context the inputs travel in. */
  traceContext?: Context;
  flushRequests?: Observable<void>;
}

export interface StageRun {
  /** What the stage emitted, in order. A declaration names its payload types only, hence `any`. */
  emitted: Array<Message<any>>;
  /** Each input's delivery, in input order. */
  deliveries: Delivery[];
  /** Each input's outcome once the stage completed (see `outcomeOf` for later). */
  outcomes: DeliveryOutcome[];
}

/** Run a transform or sink over `inputs` (payloads), to completion. */
export async function runStage<S extends z.ZodType>(declaration: ProcessorDeclaration<S>, rawConfig: z.input<S>, inputs: readonly unknown[], options: RunStageOptions = {}): Promise<StageRun> {
  const ctx = stageContext(declaration.type, options);
  let operator: OperatorFunction<Message<any>, Message<any>> = declaration.create(declaration.config.parse(rawConfig), ctx);
  if (options.runtime !== undefined) operator = wrapStep(declaration, operator, runtimeSchema.parse(options.runtime), { pipeline: ctx.pipeline, stage: ctx.stage, metrics: new RuntimeMetrics(), tracer: trace.getTracer('weir'), logger: ctx.logger });
  const messages = inputs.map((payload) => sourceMessage(payload, options.traceContext));
  const emitted = await lastValueFrom(
    from(messages).pipe(
      operator,
      tap((m) => {
        if (!options.holdEmitted) m.delivery.release();
      }),
      toArray(),
    ),
  );
  const deliveries = messages.map((m) => m.delivery);
  return { emitted, deliveries, outcomes: await Promise.all(deliveries.map(outcomeOf)) };
}


export interface StartSourceOptions extends HarnessOptions {
  /** The pipeline's `max_in_flight`: the credits of its flow control. */
  maxInFlight?: number;
  limits?: Partial<HttpLimits>;
}

/** A subscribed source and the fakes around it. */
export class RunningSource {
  /** The pipeline's credits (a real FlowControl). */
  readonly flow: FlowControl;
  /** Where an HTTP source mounted its routes; `http.request()` calls them. */
  readonly http: FakeHttpRoutes;
  /** Reasons of `shed()` calls, in order. */
  readonly shed: string[] = [];
  /** `progress()` reports, in order. */
  readonly progress: Array<{ consumed: number; total?: number }> = [];
  /** How often the source asked steps to flush. */
  flushes = 0;
  /** What the source emitted so far, in order. */
  readonly emitted: Array<Message<any>> = [];
  private readonly messages = new ReplaySubject<Message<any>>();
  /** Settles when the source completes (rejects when it fails). */
  readonly completed: Promise<void>;
  private readonly subscription: { unsubscribe(): void };

  constructor(declaration: SourceDeclaration, rawConfig: unknown, options: StartSourceOptions) {
    this.flow = new FlowControl(options.maxInFlight ?? 64);
    this.http = new FakeHttpRoutes(options.limits);
    const flushRequests = new Subject<void>();
    const source$ = declaration.create(declaration.config.parse(rawConfig), {
      ...stageContext(declaration.type, { ...options, flushRequests }),
      flow: this.flow,
      http: this.http,
      shed: (reason) => this.shed.push(reason),
      requestFlush: () => {
        this.flushes += 1;
        flushRequests.next();
      },
      progress: (update) => this.progress.push(update),
    });
    let ended!: { resolve: () => void; reject: (err: unknown) => void };
    this.completed = new Promise<void>((resolve, reject) => (ended = { resolve, reject }));
    this.completed.catch(() => undefined);
    this.subscription = source$.subscribe({
      next: (m) => {
        this.emitted.push(m);
        this.messages.next(m);
      },
      error: (err: unknown) => ended.reject(err),
      complete: () => ended.resolve(),
    });
  }

  /** The first `n` messages, once the source emitted that many (the stream of what it emits). */
  take(n: number): Promise<Array<Message<any>>> {
    return firstValueFrom(this.messages.pipe(take(n), toArray()));
  }

  /** Unsubscribe, as the compiler does when sources stop. */
  stop(): void {
    this.subscription.unsubscribe();
  }
}

/** Subscribe to a source with its config parsed by its own schema, a real FlowControl and a fake HTTP edge. */
export function startSource<S extends z.ZodType>(declaration: SourceDeclaration<S>, rawConfig: z.input<S>, options: StartSourceOptions = {}): RunningSource {
  return new RunningSource(declaration as unknown as SourceDeclaration, rawConfig, options);
}

/**
 * Let every callback already queued on a settled promise run (acknowledgements, commits): one turn
 * of the event loop. With fake timers, keep setImmediate real for it.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
