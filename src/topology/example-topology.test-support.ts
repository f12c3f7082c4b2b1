import { parseDocument } from 'yaml';
import { payloadAfter, payloadsFit, type DeclarationExample, type ProcessorDeclaration, type ResourceDeclaration, type SourceDeclaration } from './declaration.js';
import type { Registry } from './registry.js';
import { resourceRefsOf } from './resource-ref.js';

type Declaration = SourceDeclaration | ProcessorDeclaration | ResourceDeclaration;

/**
 * The smallest topology a declaration's example belongs in, as text for `loadTopologyText`: one
 * pipeline whose source and steps lead to what the example's step takes, then the example itself,
 * and the resources those entries name. Every other entry is the first example of its own
 * declaration; a named resource is the resource example of that name (and a fitting type), so
 * examples that refer to each other stay consistent. The example goes in as written.
 */
export function exampleTopology(registry: Registry, declaration: Declaration, example: DeclarationExample): string {
  const lead = declaration.kind === 'source' ? [] : leadInto(registry, declaration.kind === 'resource' ? 'any' : declaration.accepts);
  const entries = [...lead.map((d) => ({ declaration: d, yaml: d.examples[0].yaml })), ...(declaration.kind === 'resource' ? [] : [{ declaration, yaml: example.yaml }])];
  const [source, ...steps] = entries;
  const resources = declaration.kind === 'resource' ? [example.yaml] : [];
  const declared = new Set(resources.map((yaml) => exampleEntry('resource', yaml)?.name));
  for (const entry of entries) {
    for (const ref of resourceRefsOf(entry.declaration.config, exampleEntry(entry.declaration.kind, entry.yaml)?.fields)) {
      if (declared.has(ref.name)) continue;
      const found = resourceExample(registry, ref.name, ref.types);
      // Left out when there is none: the lint then says the name is not declared.
      if (found !== undefined) resources.push(found);
      declared.add(ref.name);
    }
  }
  return [
    'name: example',
    ...(resources.length > 0 ? ['resources:', ...resources.map((r) => indent(r, 2))] : []),
    'pipelines:',
    '  example:',
    indent(source.yaml, 4),
    ...(steps.length > 0 ? ['    steps:', ...steps.map((s) => indent(s.yaml, 6))] : ['    steps: []']),
    '',
  ].join('\n');
}

/**
 * The entry an example writes: the map under `source:`, a step's list item, or a resource's map
 * and its name; undefined when the YAML does not parse or has another shape (the lint says why).
 */
export function exampleEntry(kind: Declaration['kind'], yaml: string): { name?: string; fields: Record<string, unknown> } | undefined {
  const doc = parseDocument(yaml);
  const parsed: unknown = doc.errors.length > 0 ? undefined : doc.toJS();
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const [name, value] = Array.isArray(parsed) ? [undefined, parsed[0]] : (Object.entries(parsed)[0] ?? []);
  if (typeof value !== 'object' || value === null) return undefined;
  const shapeFits = kind === 'resource' ? !Array.isArray(parsed) : kind === 'source' ? name === 'source' : Array.isArray(parsed);
  return shapeFits ? { name, fields: value as Record<string, unknown> } : undefined;
}

/** The shortest chain from a source through steps to one that emits `type`, as the lint checks stage order. */
function leadInto(registry: Registry, type: string): Array<SourceDeclaration | ProcessorDeclaration> {
  let chains = [...registry.sources.values()].map((s) => ({ chain: [s] as Array<SourceDeclaration | ProcessorDeclaration>, emits: s.emits }));
  for (let length = 1; length <= registry.processors.size + 1; length++) {
    const done = chains.find((c) => payloadsFit(c.emits, type));
    if (done) return done.chain;
    chains = chains.flatMap((c) =>
      [...registry.processors.values()].filter((p) => payloadsFit(c.emits, p.accepts)).map((p) => ({ chain: [...c.chain, p], emits: payloadAfter(p, c.emits) })),
    );
  }
  throw new Error(`no source leads to a step that emits ${type}`);
}

function resourceExample(registry: Registry, name: string, types: readonly string[]): string | undefined {
  for (const resource of registry.resources.values()) {
    if (!types.includes(resource.type) && !types.some((t) => registry.resourceProvides(resource.type, t))) continue;
    const example = resource.examples.find((e) => exampleEntry('resource', e.yaml)?.name === name);
    if (example) return example.yaml;
  }
  return undefined;
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : ' '.repeat(spaces) + line))
    .join('\n');
}
