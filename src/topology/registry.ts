import type { ProcessorDeclaration, ResourceDeclaration, SourceDeclaration } from './declaration.js';

/** Every stage and resource type a topology can name. An explicit list: no import side effects. */
export interface Registry {
  sources: Map<string, SourceDeclaration>;
  processors: Map<string, ProcessorDeclaration>;
  resources: Map<string, ResourceDeclaration>;
  /** Whether a resource type offers a capability (e.g. `sqlite_index` provides `series_index`). */
  resourceProvides(type: string, capability: string): boolean;
}

export function createRegistry(parts: { sources: SourceDeclaration[]; processors: ProcessorDeclaration[]; resources: ResourceDeclaration[] }): Registry {
  const byType = <T extends { type: string }>(list: T[]) => new Map(list.map((d) => [d.type, d] as const));
  const resources = byType(parts.resources);
  return {
    sources: byType(parts.sources),
    processors: byType(parts.processors),
    resources,
    resourceProvides: (type, capability) => resources.get(type)?.provides?.includes(capability) ?? false,
  };
}
