import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from './components.js';
import { exampleEntry, exampleTopology } from './topology/example-topology.test-support.js';
import { topologyJsonSchema } from './topology/json-schema.js';
import { loadTopologyText } from './topology/load.js';
import { stageReference } from './topology/stage-docs.js';

/** The committed schema and stage reference must be what the stage schemas generate today. */
describe('generated files', () => {
  const registry = defaultRegistry();
  it('topology/topology.schema.json is up to date (regenerate: npm run gen)', () => {
    expect(readFileSync('topology/topology.schema.json', 'utf8')).toBe(`${JSON.stringify(topologyJsonSchema(registry), null, 2)}\n`);
  });
  it('docs/stages.md is up to date (regenerate: npm run gen)', () => {
    expect(readFileSync('docs/stages.md', 'utf8')).toBe(stageReference(registry));
  });
  it('the schema describes every registered stage and resource', () => {
    const text = JSON.stringify(topologyJsonSchema(registry));
    for (const type of [...registry.sources.keys(), ...registry.processors.keys(), ...registry.resources.keys()]) expect(text).toContain(`"const":"${type}"`);
  });
});

/** The examples in the stage reference are what an SRE copies: each must lint clean where it belongs. */
describe('declaration examples', () => {
  const registry = defaultRegistry();
  const declarations = [...registry.sources.values(), ...registry.processors.values(), ...registry.resources.values()];
  const lint = (text: string) => loadTopologyText(text, { registry, env: {} }).problems;

  it.each(declarations.flatMap((d) => d.examples.map((example) => ({ d, example, name: `${d.kind} ${d.type}: ${example.title}` }))))('$name', ({ d, example }) => {
    expect(exampleEntry(d.kind, example.yaml)?.fields.type, 'an entry of its own type').toBe(d.type);
    const text = exampleTopology(registry, d, example);
    expect(lint(text), text).toEqual([]);
  });

  const dedup = registry.processors.get('dedup')!;
  it.each([
    { broken: 'a misspelt field', yaml: '- type: dedup\n  tiers: [recent_series]\n  refresh: 30m', problem: 'unknown field: refresh' },
    { broken: 'a resource no example declares', yaml: '- type: dedup\n  tiers: [recent]', problem: 'no resource named "recent"' },
    { broken: 'a value of the wrong kind', yaml: '- type: dedup\n  tiers: [recent_series]\n  metadata: sometimes', problem: 'expected boolean' },
    { broken: 'YAML that does not parse', yaml: '- type: dedup\n tiers: [recent_series]', problem: 'Sequence item without - indicator' },
  ])('an example with $broken is caught', ({ yaml, problem }) => {
    const problems = lint(exampleTopology(registry, dedup, { title: 'broken', yaml }));
    expect(problems).not.toEqual([]);
    expect(problems.map((p) => p.message).join('\n')).toContain(problem);
  });
});
