import { z } from 'zod';

/**
 * A config field that names a resource declared under `resources:`. The accepted resource types
 * are recorded in the schema's metadata so `weir lint` checks references without running anything.
 */
export function resourceRef(types: readonly string[], description: string) {
  return z.string().min(1).meta({ description, weirResourceTypes: [...types] });
}

function refTypes(schema: z.ZodType): string[] | undefined {
  let s: z.ZodType = schema;
  // Unwrap optional/default wrappers to reach the field's own metadata.
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.def.innerType as z.ZodType;
  const meta = s.meta() as { weirResourceTypes?: string[] } | undefined;
  return meta?.weirResourceTypes;
}

/** The resource names a parsed config refers to, with the field path and accepted types. */
export function resourceRefsOf(schema: z.ZodType, config: unknown): Array<{ name: string; types: string[]; path: Array<string | number> }> {
  if (!(schema instanceof z.ZodObject) || typeof config !== 'object' || config === null) return [];
  const refs: Array<{ name: string; types: string[]; path: Array<string | number> }> = [];
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const value = (config as Record<string, unknown>)[key];
    if (value === undefined) continue;
    let inner: z.ZodType = field;
    while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault) inner = inner.def.innerType as z.ZodType;
    if (inner instanceof z.ZodArray && Array.isArray(value)) {
      const types = refTypes(inner.element as z.ZodType);
      if (types) value.forEach((v, i) => refs.push({ name: String(v), types, path: [key, i] }));
      continue;
    }
    const types = refTypes(field);
    if (types && typeof value === 'string') refs.push({ name: value, types, path: [key] });
  }
  return refs;
}
