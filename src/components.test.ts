import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from './components.js';
import { topologyJsonSchema } from './topology/json-schema.js';
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
