import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { payloadAfter, payloadsFit, type ProcessorDeclaration, type ResourceDeclaration, type SourceDeclaration } from './declaration.js';
import { interpolateEnv } from './interpolate.js';
import type { Registry } from './registry.js';
import { identifier, pipelineOptionsSchema, runtimeSchema, type RuntimeConfig } from './runtime-schema.js';
import { resourceRefsOf } from './resource-ref.js';

type Path = Array<string | number>;

export interface ResourceSpec {
  name: string;
  type: string;
  declaration: ResourceDeclaration;
  config: unknown;
}
export interface SourceSpec {
  name: string;
  type: string;
  declaration: SourceDeclaration;
  config: unknown;
}
export interface StepSpec {
  name: string;
  type: string;
  declaration: ProcessorDeclaration;
  config: unknown;
  runtime: RuntimeConfig;
}
export interface PipelineSpec {
  name: string;
  description?: string;
  maxInFlight: number;
  source: SourceSpec;
  steps: StepSpec[];
}
/** A topology after validation: every declaration resolved, every config defaulted. */
export interface TopologySpec {
  name: string;
  description?: string;
  resources: ResourceSpec[];
  pipelines: PipelineSpec[];
  api: { index?: string };
}

const entry = z.looseObject({ type: z.string({ error: 'every entry needs a `type`' }) });
const documentSchema = z.strictObject({
  name: z.string().min(1).describe('Name of this topology, shown in logs, metrics and traces.'),
  description: z.string().optional(),
  resources: z.record(identifier, entry).default({}),
  pipelines: z.record(
    identifier,
    z.looseObject({ source: entry, steps: z.array(entry).default([]) }),
  ),
  api: z.strictObject({ index: identifier.optional() }).default({}),
});

export interface LoadOptions {
  registry: Registry;
  env?: Record<string, string | undefined>;
}

export interface LoadResult {
  spec?: TopologySpec;
  problems: ConfigProblem[];
}

/** Parse, interpolate and validate a topology; report every problem with its YAML path and line. */
export function loadTopologyText(text: string, options: LoadOptions): LoadResult {
  const { text: expanded, problems } = interpolateEnv(text, options.env ?? process.env);
  const lineCounter = new LineCounter();
  const doc = parseDocument(expanded, { lineCounter, prettyErrors: false });
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    problems.push({ path: '', line: pos.line, column: pos.col, message: err.message.split('\n')[0] });
  }
  if (problems.length > 0) return { problems };
  const validator = new TopologyValidator(options.registry);
  const spec = validator.validate(doc.toJS());
  const located = validator.problems.map((p) => locate(p, doc, lineCounter));
  return located.length > 0 ? { problems: located } : { spec, problems: [] };
}

export async function loadTopologyFile(file: string, options: LoadOptions): Promise<TopologySpec> {
  const text = await readFile(file, 'utf8');
  const { spec, problems } = loadTopologyText(text, options);
  if (!spec) throw new ConfigError(`${file}: ${problems.length} problem(s)`, problems);
  return spec;
}

export function formatProblems(file: string, problems: ConfigProblem[]): string {
  return problems
    .map((p) => `${file}:${p.line ?? '?'}${p.column ? `:${p.column}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`)
    .join('\n');
}

class TopologyValidator {
  readonly problems: Array<ConfigProblem & { rawPath: Path }> = [];
  /** Every stage of a known type, valid or not: its resource references are checked all the same. */
  private readonly stages: Array<{ schema: z.ZodType; fields: Record<string, unknown>; path: Path }> = [];
  private declaredResources = new Set<string>();
  constructor(private readonly registry: Registry) {}

  validate(raw: unknown): TopologySpec | undefined {
    const doc = this.parse(documentSchema, raw, []);
    if (!doc) return undefined;
    this.declaredResources = new Set(Object.keys(doc.resources));
    const resources = Object.entries(doc.resources).flatMap(([name, r]) => {
      const spec = this.resource(name, r, ['resources', name]);
      return spec ? [spec] : [];
    });
    const pipelines = Object.entries(doc.pipelines).flatMap(([name, p]) => {
      const spec = this.pipeline(name, p, ['pipelines', name]);
      return spec ? [spec] : [];
    });
    if (Object.keys(doc.pipelines).length === 0) this.add(['pipelines'], 'a topology needs at least one pipeline');
    this.checkReferences(resources);
    if (doc.api.index) this.checkResource(resources, doc.api.index, ['series_index'], ['api', 'index']);
    return { name: doc.name, description: doc.description, resources, pipelines, api: doc.api };
  }

  private resource(name: string, raw: z.output<typeof entry>, path: Path): ResourceSpec | undefined {
    const declaration = this.registry.resources.get(raw.type);
    if (!declaration) return this.unknownType(raw.type, [...this.registry.resources.keys()], path, 'resource');
    const { type: _type, ...fields } = raw;
    const config = this.parse(declaration.config, fields, path);
    return config === undefined ? undefined : { name, type: raw.type, declaration, config };
  }

  private pipeline(name: string, raw: Record<string, unknown> & { source: z.output<typeof entry>; steps: Array<z.output<typeof entry>> }, path: Path): PipelineSpec | undefined {
    const { source: rawSource, steps: rawSteps, ...optionFields } = raw;
    const options = this.parse(pipelineOptionsSchema, optionFields, path);
    const source = this.source(rawSource, [...path, 'source']);
    const steps: StepSpec[] = [];
    const names = new Set<string>(source ? [source.name] : []);
    rawSteps.forEach((rawStep, i) => {
      const step = this.step(rawStep, [...path, 'steps', i], names);
      if (step) steps.push(step);
    });
    if (!options || !source || steps.length !== rawSteps.length) return undefined;
    this.checkTypeFlow(source, steps, path);
    return { name, description: options.description, maxInFlight: options.max_in_flight, source, steps };
  }

  private source(raw: z.output<typeof entry>, path: Path): SourceSpec | undefined {
    const declaration = this.registry.sources.get(raw.type);
    if (!declaration) return this.unknownType(raw.type, [...this.registry.sources.keys()], path, 'source');
    const { type, name, ...fields } = raw;
    this.stages.push({ schema: declaration.config, fields, path });
    const config = this.parse(declaration.config, fields, path);
    const stageName = this.parse(identifier.optional(), name, [...path, 'name']) ?? type;
    return config === undefined ? undefined : { name: stageName, type, declaration, config };
  }

  private step(raw: z.output<typeof entry>, path: Path, names: Set<string>): StepSpec | undefined {
    const declaration = this.registry.processors.get(raw.type);
    if (!declaration) return this.unknownType(raw.type, [...this.registry.processors.keys()], path, 'step');
    const { type, name, runtime: rawRuntime, ...fields } = raw;
    this.stages.push({ schema: declaration.config, fields, path });
    const config = this.parse(declaration.config, fields, path);
    const runtime = this.parse(runtimeSchema, rawRuntime ?? {}, [...path, 'runtime']);
    let stageName = (this.parse(identifier.optional(), name, [...path, 'name']) as string | undefined) ?? type;
    if (names.has(stageName)) {
      if (name !== undefined) this.add([...path, 'name'], `step name "${stageName}" is used twice in this pipeline`);
      for (let n = 2; names.has(stageName); n++) stageName = `${type}_${n}`;
    }
    names.add(stageName);
    if (config === undefined || runtime === undefined) return undefined;
    return { name: stageName, type, declaration, config, runtime };
  }

  private checkTypeFlow(source: SourceSpec, steps: StepSpec[], path: Path): void {
    let emits = source.declaration.emits;
    steps.forEach((step, i) => {
      const accepts = step.declaration.accepts;
      if (!payloadsFit(emits, accepts)) {
        this.add([...path, 'steps', i, 'type'], `${step.type} takes ${accepts}, but the step before it emits ${emits}`);
      }
      emits = payloadAfter(step.declaration, emits);
    });
  }

  /** Resource names inside stage configs must exist and be of a type the stage can use. */
  private checkReferences(resources: ResourceSpec[]): void {
    for (const { schema, fields, path } of this.stages) {
      for (const ref of resourceRefsOf(schema, fields)) {
        this.checkResource(resources, ref.name, ref.types, [...path, ...ref.path]);
      }
    }
  }

  private checkResource(resources: ResourceSpec[], name: string, types: readonly string[], path: Path): void {
    const found = resources.find((r) => r.name === name);
    if (!found && this.declaredResources.has(name)) return; // declared but invalid: reported already
    if (!found) {
      this.add(path, `no resource named "${name}" under resources:${resources.length ? ` (declared: ${resources.map((r) => r.name).join(', ')})` : ''}`);
    } else if (!types.includes(found.type) && !types.some((t) => this.registry.resourceProvides(found.type, t))) {
      this.add(path, `resource "${name}" is a ${found.type}; this field needs one of: ${types.join(', ')}`);
    }
  }

  private unknownType(type: string, known: string[], path: Path, what: string): undefined {
    this.add([...path, 'type'], `unknown ${what} type "${type}"; known: ${known.sort().join(', ')}`);
    return undefined;
  }

  private parse<S extends z.ZodType>(schema: S, value: unknown, path: Path): z.output<S> | undefined {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) this.add([...path, ...(issue.path as Path)], issueMessage(issue));
    return undefined;
  }

  private add(rawPath: Path, message: string): void {
    this.problems.push({ path: formatPath(rawPath), rawPath, message });
  }
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  return issue.message;
}

export function formatPath(path: Path): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/** Find the line of the deepest YAML node that exists along the problem's path. */
function locate(problem: ConfigProblem & { rawPath: Path }, doc: Document, lineCounter: LineCounter): ConfigProblem {
  const { rawPath, ...rest } = problem;
  for (let n = rawPath.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(rawPath.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return { ...rest, line: pos.line, column: pos.col };
    }
  }
  return rest;
}
