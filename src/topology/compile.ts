import { trace, type Tracer } from '@opentelemetry/api';
import { Subject, takeUntil, type MonoTypeOperatorFunction, type Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { HttpRoutes } from '../edge/routes.js';
import type { Logger } from '../logger.js';
import { FlowControl } from '../runtime/flow-control.js';
import type { Message } from '../runtime/message.js';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import { runStep, runStreamStep } from '../runtime/step-runtime.js';
import type { ProcessorDeclaration, Resource, ResourceLookup } from './declaration.js';
import type { PipelineSpec, TopologySpec } from './load.js';
import type { Registry } from './registry.js';
import { toRetryPolicy, type RuntimeConfig } from './runtime-schema.js';

export interface CompileDeps {
  registry: Registry;
  /** Progress of bounded sources (replays), by pipeline. */
  onProgress?: (pipeline: string, update: { consumed: number; total?: number }) => void;
  logger: Logger;
  metrics: RuntimeMetrics;
  http: HttpRoutes;
  dataDir: string;
  tracer?: Tracer;
}

export interface RunningPipeline {
  name: string;
  /** False once the pipeline stopped because its source failed: the service is then not ready. */
  alive(): boolean;
  flow: FlowControl;
  subscription: Subscription;
  /** Settles when the pipeline ends on its own (a bounded source such as a replay finished). */
  completed: Promise<void>;
}

export interface RunningTopology {
  spec: TopologySpec;
  pipelines: RunningPipeline[];
  resource<R>(name: string): R;
  ready(): boolean;
  /** Stop sources, wait up to `drainMs` for in-flight work to settle, then close resources. */
  stop(drainMs: number): Promise<void>;
}

/** Open the resources, compile every pipeline into an RxJS graph and subscribe to it. */
export async function startTopology(spec: TopologySpec, deps: CompileDeps): Promise<RunningTopology> {
  const opened = new Map<string, { type: string; resource: Resource }>();
  const shutdown = new AbortController();
  const stopSources = new Subject<void>();
  try {
    for (const r of spec.resources) {
      const resource = await r.declaration.open(r.config, { name: r.name, logger: deps.logger.child({ resource: r.name }), dataDir: deps.dataDir, registry: deps.metrics.registry });
      opened.set(r.name, { type: r.type, resource });
    }
  } catch (err) {
    await closeAll(opened, deps.logger);
    throw err;
  }
  const lookup: ResourceLookup = {
    get<R>(name: string, type: string | readonly string[]): R {
      const found = opened.get(name);
      const wanted = typeof type === 'string' ? [type] : type;
      if (!found) throw new ConfigError(`no resource named "${name}"`);
      if (!wanted.includes(found.type) && !wanted.some((t) => deps.registry.resourceProvides(found.type, t))) {
        throw new ConfigError(`resource "${name}" is a ${found.type}, not one of ${wanted.join(', ')}`);
      }
      return found.resource as R;
    },
  };
  const pipelines = spec.pipelines.map((p) => startPipeline(p, deps, lookup, shutdown.signal, stopSources));
  let stopped = false;
  return {
    spec,
    pipelines,
    resource<R>(name: string): R {
      const found = opened.get(name);
      if (!found) throw new ConfigError(`no resource named "${name}"`);
      return found.resource as R;
    },
    ready: () => !stopped && pipelines.every((p) => p.alive()) && [...opened.values()].every(({ resource }) => resource.ready?.() ?? true),
    async stop(drainMs: number) {
      if (stopped) return;
      stopped = true;
      shutdown.abort();
      stopSources.next();
      const drained = Promise.all(pipelines.map((p) => p.flow.drained()));
      const timedOut = await Promise.race([drained.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), drainMs).unref())]);
      if (timedOut) deps.logger.warn({ drainMs }, 'drain timed out; unacknowledged work is left to the senders to retry');
      for (const p of pipelines) p.subscription.unsubscribe();
      await closeAll(opened, deps.logger);
    },
  };
}

/**
 * What every step's operator is wrapped with: `runStep` (retries, timeout, concurrency, span,
 * metrics) from its `runtime:` block, or, for a stream-mode step that owns its deliveries, only the
 * metrics of `runStreamStep`.
 */
export function wrapStep(
  declaration: ProcessorDeclaration,
  operator: OperatorFunction<Message<any>, Message<any>>,
  runtime: RuntimeConfig,
  o: { pipeline: string; stage: string; metrics: RuntimeMetrics; tracer: Tracer; logger: Logger },
): MonoTypeOperatorFunction<Message<any>> {
  const labels = { pipeline: o.pipeline, stage: o.stage, type: declaration.type, metrics: o.metrics };
  if (declaration.mode === 'stream') return runStreamStep(operator, labels);
  return runStep(operator, { ...labels, concurrency: runtime.concurrency, retry: toRetryPolicy(runtime.retry), timeoutMs: runtime.timeout, tracer: o.tracer, logger: o.logger });
}

function startPipeline(p: PipelineSpec, deps: CompileDeps, resources: ResourceLookup, shutdown: AbortSignal, stopSources: Subject<void>): RunningPipeline {
  const flow = new FlowControl(p.maxInFlight);
  const flushRequests = new Subject<void>();
  const tracer = deps.tracer ?? trace.getTracer('weir');
  const logger = deps.logger.child({ pipeline: p.name });
  deps.metrics.pipelineCapacity.set({ pipeline: p.name }, p.maxInFlight);
  const source$ = p.source.declaration.create(p.source.config, {
    pipeline: p.name,
    stage: p.source.name,
    logger: logger.child({ stage: p.source.name }),
    resources,
    shutdown,
    flow,
    http: deps.http,
    shed: (reason) => deps.metrics.shed.inc({ pipeline: p.name, stage: p.source.name, reason }),
    requestFlush: () => flushRequests.next(),
    progress: deps.onProgress ? (update) => deps.onProgress!(p.name, update) : undefined,
    flushRequests,
  }) as Observable<Message<any>>;
  let graph$ = source$.pipe(takeUntil(stopSources));
  for (const step of p.steps) {
    const operator = step.declaration.create(step.config, { pipeline: p.name, stage: step.name, logger: logger.child({ stage: step.name }), resources, shutdown, flushRequests });
    graph$ = graph$.pipe(wrapStep(step.declaration, operator, step.runtime, { pipeline: p.name, stage: step.name, metrics: deps.metrics, tracer, logger }));
  }
  let failed = false;
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const completed = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  completed.catch(() => undefined);
  const subscription = graph$.subscribe({
    // Reaching the end of the pipeline is what acknowledges a message.
    next: (m) => m.delivery.release(),
    error: (err: unknown) => {
      logger.error({ err: String(err) }, 'pipeline stopped by an error in its source');
      failed = true;
      settle.reject(err);
    },
    complete: () => settle.resolve(),
  });
  const sampler = setInterval(() => deps.metrics.pipelineInFlight.set({ pipeline: p.name }, flow.used), 1000);
  sampler.unref();
  subscription.add(() => {
    clearInterval(sampler);
    flushRequests.complete();
  });
  return { name: p.name, flow, subscription, completed, alive: () => !failed };
}

const CLOSE_TIMEOUT_MS = 30_000;

/** Close in reverse order of opening; a resource that does not close in time is left behind, not waited for. */
async function closeAll(opened: Map<string, { resource: Resource }>, logger: Logger): Promise<void> {
  for (const [name, { resource }] of [...opened].reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), CLOSE_TIMEOUT_MS)));
    const outcome = await Promise.race([resource.close().then(() => 'closed' as const, (err: unknown) => err), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') logger.warn({ resource: name, timeoutMs: CLOSE_TIMEOUT_MS }, 'resource did not close in time');
    else if (outcome !== 'closed') logger.warn({ resource: name, err: String(outcome) }, 'closing resource failed');
  }
}
