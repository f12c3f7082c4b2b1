import { NEVER } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryDedup } from './resources/memory-dedup.js';
import { canonicalize } from './stages/transforms/canonicalize.js';
import { dedup } from './stages/transforms/dedup.js';
import { defineSource, type ProcessorDeclaration, type ResourceDeclaration, type SourceDeclaration } from './topology/declaration.js';
import { renderGraph } from './topology/graph.js';
import { loadTopologyText } from './topology/load.js';
import { createRegistry } from './topology/registry.js';

const requests = defineSource({
  kind: 'source',
  type: 'test_requests',
  summary: 'Emits WriteRequests (test only).',
  stability: 'experimental',
  examples: [{ title: 'Test only', yaml: 'source:\n  type: test_requests' }],
  emits: 'WriteRequest',
  config: z.strictObject({ rate: z.number().int().default(1) }),
  create: () => NEVER,
});
const registry = createRegistry({
  sources: [requests as SourceDeclaration],
  processors: [canonicalize, dedup] as ProcessorDeclaration[],
  resources: [memoryDedup] as ResourceDeclaration[],
});

const valid = `
name: t
resources:
  seen:
    type: memory_dedup
    max_series: 1000
pipelines:
  ingest:
    source:
      type: test_requests
    steps:
      - type: canonicalize
      - type: dedup
        tiers: [seen]
        runtime:
          concurrency: 2
          retry: { max_retries: 1, initial_backoff: 5ms }
`;

describe('loadTopologyText', () => {
  it('resolves declarations and fills in defaults', () => {
    const { spec, problems } = loadTopologyText(valid, { registry, env: {} });
    expect(problems).toEqual([]);
    const p = spec!.pipelines[0];
    expect(p.maxInFlight).toBe(256);
    expect(p.steps.map((s) => s.name)).toEqual(['canonicalize', 'dedup']);
    expect(p.steps[0].config).toMatchObject({ name_validation: 'legacy', max_labels_per_series: 64 });
    expect(p.steps[1].runtime).toMatchObject({ concurrency: 2, retry: { max_retries: 1, initial_backoff: 5, max_backoff: 10_000 } });
    expect(spec!.resources[0].config).toMatchObject({ max_series: 1000, ttl: 3_600_000 });
  });

  it('reports every problem at once, each with its YAML path and line', () => {
    const text = `name: t
resources:
  seen:
    type: memory_dedup
    max_series: lots
pipelines:
  ingest:
    source:
      type: test_requests
    steps:
      - type: canonicalise
      - type: dedup
        tiers: [nowhere]
        refresh_after: soon
      - type: canonicalize
        max_labels_per_series: 0
        colour: blue
        runtime:
          concurrency: 0
`;
    const { spec, problems } = loadTopologyText(text, { registry, env: {} });
    expect(spec).toBeUndefined();
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(byPath['resources.seen.max_series']).toMatchObject({ line: 5 });
    expect(byPath['pipelines.ingest.steps[0].type']).toMatchObject({ line: 11, message: expect.stringContaining('unknown step type "canonicalise"; known: canonicalize, dedup') });
    expect(byPath['pipelines.ingest.steps[1].refresh_after']).toMatchObject({ line: 14, message: expect.stringContaining('not a duration') });
    expect(byPath['pipelines.ingest.steps[2].max_labels_per_series']).toMatchObject({ line: 16 });
    expect(byPath['pipelines.ingest.steps[2]']).toMatchObject({ message: 'unknown field: colour' });
    expect(byPath['pipelines.ingest.steps[2].runtime.concurrency']).toMatchObject({ line: 19 });
    expect(byPath['pipelines.ingest.steps[1].tiers[0]']).toMatchObject({ line: 13, message: expect.stringContaining('no resource named "nowhere"') });
    expect(problems).toHaveLength(7);
  });

  it('checks resource references and the order of payload types', () => {
    const text = valid.replace('tiers: [seen]', 'tiers: [seen, missing]').replace('      - type: canonicalize\n', '');
    const { problems } = loadTopologyText(text, { registry, env: {} });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'pipelines.ingest.steps[0].type', message: 'dedup takes SeriesBatch, but the step before it emits WriteRequest' }),
        expect.objectContaining({ path: 'pipelines.ingest.steps[0].tiers[1]', message: expect.stringContaining('no resource named "missing"') }),
      ]),
    );
  });

  it('interpolates the environment before parsing', () => {
    const text = valid.replace('max_series: 1000', 'max_series: ${SIZE:-10}');
    expect(loadTopologyText(text, { registry, env: {} }).spec!.resources[0].config).toMatchObject({ max_series: 10 });
    expect(loadTopologyText(text, { registry, env: { SIZE: '77' } }).spec!.resources[0].config).toMatchObject({ max_series: 77 });
  });

  it('reports YAML syntax errors with their line', () => {
    const { problems } = loadTopologyText('name: t\npipelines:\n  a: [unclosed\n', { registry, env: {} });
    expect(problems[0].line).toBeGreaterThanOrEqual(3);
  });

  it('names duplicate step names', () => {
    const text = valid.replace('- type: dedup', '- type: dedup\n        name: canonicalize');
    expect(loadTopologyText(text, { registry, env: {} }).problems).toEqual([expect.objectContaining({ path: 'pipelines.ingest.steps[1].name', message: expect.stringContaining('used twice') })]);
  });
});

describe('renderGraph', () => {
  it('draws pipelines and the resources their steps use, in Mermaid and DOT', () => {
    const spec = loadTopologyText(valid, { registry, env: {} }).spec!;
    const mermaid = renderGraph(spec, 'mermaid');
    expect(mermaid).toContain('flowchart LR');
    expect(mermaid).toContain('ingest__test_requests -- WriteRequest --> ingest__canonicalize');
    expect(mermaid).toContain('ingest__canonicalize -- SeriesBatch --> ingest__dedup');
    expect(mermaid).toContain('ingest__dedup -.-> r_seen');
    const dot = renderGraph(spec, 'dot');
    expect(dot).toMatch(/^digraph "t" \{/);
    expect(dot).toContain('"ingest__dedup" -> "r_seen" [style=dashed];');
  });
});
