import { z } from 'zod';
import type { Registry } from './registry.js';
import { identifier, pipelineOptionsSchema, runtimeSchema } from './runtime-schema.js';
import type { Stability } from './stability.js';

/**
 * The whole topology as one zod schema, built from the registry's declarations, for the generated
 * `topology/topology.schema.json` (editor completion and validation of topology YAML).
 */
export function topologyZodSchema(registry: Registry) {
  const withType = (type: string, schema: z.ZodType, extra: Record<string, z.ZodType> = {}) =>
    (schema as z.ZodObject).extend({ type: z.literal(type), ...extra });
  const union = (members: z.ZodObject[]) => (members.length === 1 ? members[0] : z.discriminatedUnion('type', members as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]));
  const sources = [...registry.sources.values()].map((d) => withType(d.type, d.config, { name: identifier.optional() }).meta(annotations(d)));
  const steps = [...registry.processors.values()].map((d) =>
    withType(d.type, d.config, { name: identifier.optional(), runtime: runtimeSchema.optional() }).meta(annotations(d)),
  );
  const resources = [...registry.resources.values()].map((d) => withType(d.type, d.config).meta(annotations(d)));
  return z.strictObject({
    name: z.string().describe('Name of this topology, shown in logs, metrics and traces.'),
    description: z.string().optional(),
    resources: z.record(identifier, union(resources)).optional().describe('Long-lived clients and stores, declared once and named by the steps that use them.'),
    pipelines: z
      .record(identifier, pipelineOptionsSchema.extend({ source: union(sources), steps: z.array(union(steps)) }))
      .describe('Each pipeline is a source followed by steps, ending in a sink.'),
    api: z.strictObject({ index: identifier.optional().describe('Resource whose series index the Prometheus HTTP API (/api/v1/series, /labels, …) serves.') }).optional(),
  });
}

export function topologyJsonSchema(registry: Registry): Record<string, unknown> {
  const schema = z.toJSONSchema(topologyZodSchema(registry), { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { $id: 'https://weir.dev/topology.schema.json', title: 'weir topology', ...schema };
}

/**
 * The summary editors show on hover, led by the stability when it is not `stable`; and the level
 * itself as `weirStability`, a custom annotation like `weirResourceTypes`, for tools.
 */
function annotations(d: { summary: string; stability: Stability }): { description: string; weirStability: Stability } {
  const lead = d.stability === 'stable' ? '' : `${d.stability[0].toUpperCase()}${d.stability.slice(1)}: `;
  return { description: `${lead}${d.summary}`, weirStability: d.stability };
}
