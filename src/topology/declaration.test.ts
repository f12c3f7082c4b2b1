import { NEVER } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSource, type SourceDeclaration } from './declaration.js';
import { topologyJsonSchema } from './json-schema.js';
import { createRegistry } from './registry.js';
import { stageReference } from './stage-docs.js';

const trial = defineSource({
  kind: 'source',
  type: 'trial_source',
  summary: 'Emits nothing yet.',
  stability: 'beta',
  examples: [
    {
      title: 'Indented like the code around it',
      yaml: `
        source:
          type: trial_source  # a comment stays
      `,
    },
  ],
  emits: 'WriteRequest',
  config: z.strictObject({}),
  create: () => NEVER,
});
const registry = createRegistry({ sources: [trial as SourceDeclaration], processors: [], resources: [] });

describe('a declaration', () => {
  it('keeps its example YAML as it sits in a topology file, without the indentation of the code', () => {
    expect(trial.examples[0].yaml).toBe('source:\n  type: trial_source  # a comment stays');
  });

  it('that is not stable says so in the schema, where editors show it, and in the reference', () => {
    const schema = JSON.stringify(topologyJsonSchema(registry));
    expect(schema).toContain('"description":"Beta: Emits nothing yet.","weirStability":"beta"');
    const reference = stageReference(registry);
    expect(reference).toContain('| `trial_source` | source | beta | Emits nothing yet. |');
    expect(reference).toContain('### `trial_source`\n\n**Stability:** [beta](#stability-levels)\n');
    expect(reference).toContain('Indented like the code around it:\n\n```yaml\nsource:\n  type: trial_source  # a comment stays\n```\n');
  });
});
