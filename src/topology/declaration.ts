import type { Observable, OperatorFunction } from 'rxjs';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { Message } from '../runtime/message.js';
import type { FlowControl } from '../runtime/flow-control.js';
import type { HttpRoutes } from '../edge/routes.js';
import type { Registry as PromRegistry } from 'prom-client';
import type { Stability } from './stability.js';

/**
 * What a stage or resource file exports: one declaration whose config schema is the single
 * source of truth for validation, defaults, `weir lint`, the topology JSON Schema and the docs.
 */
interface DeclarationBase<S extends z.ZodType> {
  /** The `type:` that selects it in topology YAML. */
  type: string;
  /** One line for `weir --help`, the stage reference and the graph. */
  summary: string;
  /** What a topology may rely on across upgrades (see `stabilityPromises`). */
  stability: Stability;
  /** Snippets for the stage reference, each linted against the real registry by the tests. */
  examples: readonly [DeclarationExample, ...DeclarationExample[]];
  /** Config fields (without `type`, `name`, `runtime`, which every stage has). */
  config: S;
}

/**
 * YAML as it goes in a topology file: for a source, `source:` and its fields; for a step, its
 * `- type: …` list entry; for a resource, its named entry under `resources:`.
 */
export interface DeclarationExample {
  title: string;
  yaml: string;
}

/** Resolves a resource declared under `resources:` by name, checked against the expected type. */
export interface ResourceLookup {
  get<R>(name: string, type: string | readonly string[]): R;
}

/** What every stage's `create` receives: its identity and its dependencies, never globals. */
export interface StageContext {
  pipeline: string;
  stage: string;
  logger: Logger;
  resources: ResourceLookup;
  /** Aborted when the service begins to shut down. */
  shutdown: AbortSignal;
  /**
   * Emits when the pipeline's source asks every step to pass on what it holds now (before a Kafka
   * rebalance gives partitions away, at shutdown). Only stages that buffer (windows) care.
   */
  flushRequests: Observable<void>;
}

export interface SourceContext extends StageContext {
  /** Credits bounding this pipeline's in-flight work: the source must respect them. */
  flow: FlowControl;
  /** Where HTTP sources mount their routes. */
  http: HttpRoutes;
  /** Count work the source refused (pipeline full, draining): one metric for every source. */
  shed(reason: string): void;
  /** Ask buffering steps downstream to pass on what they hold now. */
  requestFlush(): void;
  /** Bounded sources (replays) report how far they are: consumed of total. */
  progress?(update: { consumed: number; total?: number }): void;
}

export interface SourceDeclaration<S extends z.ZodType = z.ZodType> extends DeclarationBase<S> {
  kind: 'source';
  /** Output payload type name, for `weir graph` and lint of stage order. */
  emits: string;
  create(config: z.output<S>, ctx: SourceContext): Observable<Message<unknown>>;
}

/**
 * A transform or sink. `create` returns an operator that the compiler applies to ONE message at a
 * time (a one-element stream per batch), wrapped with retries, tracing, metrics and concurrency
 * limits. Emitting nothing drops the batch (it counts as done); a sink emits the message once it
 * is durably written, which is what acknowledges it.
 */
export interface ProcessorDeclaration<S extends z.ZodType = z.ZodType> extends DeclarationBase<S> {
  kind: 'transform' | 'sink';
  /**
   * `batch` (default): the operator sees one message at a time and the runtime wraps it with
   * retries, timeout, concurrency and hand-over of the delivery. `stream`: the operator sees the
   * whole stream (to combine messages, as a window does) and owns the deliveries itself: each input
   * message carries one hold, which it must release or fail; each message it emits must carry one.
   */
  mode?: 'batch' | 'stream';
  accepts: string;
  emits: string;
  create(config: z.output<S>, ctx: StageContext): OperatorFunction<Message<any>, Message<any>>;
}

export type StageDeclaration = SourceDeclaration | ProcessorDeclaration;

/** Whether a step that takes `accepts` may follow one that emits `emits` (`any` fits everything). */
export function payloadsFit(emits: string, accepts: string): boolean {
  return emits === 'any' || accepts === 'any' || emits === accepts;
}

/** What a step passes on, given what reached it (`same`: its input type). */
export function payloadAfter(step: ProcessorDeclaration, emits: string): string {
  return step.emits === 'same' ? emits : step.emits;
}

export interface ResourceContext {
  name: string;
  logger: Logger;
  /** The service's metrics registry (what /metrics serves), for resources with metrics of their own. */
  registry?: PromRegistry;
  /** The service's data directory: relative file paths in resources resolve against it. */
  dataDir: string;
}

/** A long-lived client or store (cache, index, Kafka, Redis, MySQL) shared by stages. */
export interface Resource {
  close(): Promise<void>;
  /** Readiness for `/-/ready`; absent means always ready once opened. */
  ready?(): boolean;
}

export interface ResourceDeclaration<S extends z.ZodType = z.ZodType, R extends Resource = Resource> extends DeclarationBase<S> {
  kind: 'resource';
  /** Capabilities other fields can ask for by name (e.g. `dedup_tier`, `series_index`). */
  provides?: readonly string[];
  open(config: z.output<S>, ctx: ResourceContext): Promise<R>;
}

export function defineSource<S extends z.ZodType>(d: SourceDeclaration<S>): SourceDeclaration<S> {
  return withTidyExamples(d);
}
export function defineProcessor<S extends z.ZodType>(d: ProcessorDeclaration<S>): ProcessorDeclaration<S> {
  return withTidyExamples(d);
}
export function defineResource<S extends z.ZodType, R extends Resource>(d: ResourceDeclaration<S, R>): ResourceDeclaration<S, R> {
  return withTidyExamples(d);
}

/**
 * Examples are written indented like the code around them: the blank first line and the common
 * indentation go, so the reference and the tests see the YAML as it sits in a topology file.
 */
function withTidyExamples<D extends DeclarationBase<z.ZodType>>(d: D): D {
  return { ...d, examples: d.examples.map((e) => ({ title: e.title, yaml: dedent(e.yaml) })) };
}

function dedent(text: string): string {
  const lines = text.replace(/^\s*\n/, '').trimEnd().split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
