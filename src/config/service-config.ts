import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { byteSize, duration } from './units.js';

export const serviceConfigSchema = z.strictObject({
  http: z
    .strictObject({
      host: z.string().default('0.0.0.0').describe('Address the HTTP server listens on.'),
      port: z.coerce.number().int().min(0).max(65535).default(9201).describe('Port (0 picks a free one).'),
      max_body_bytes: byteSize().prefault('32MiB').describe('Largest (compressed) request body; larger gets 413.'),
      max_decoded_bytes: byteSize().prefault('256MiB').describe('Largest decompressed remote-write protobuf; larger gets 413.'),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  data_dir: z.string().default('./data').describe('Directory of embedded stores; relative resource paths resolve here.'),
  shutdown: z.strictObject({ drain_timeout: duration().prefault('30s') }).prefault({}),
});
export type ServiceConfig = z.output<typeof serviceConfigSchema>;

export interface LoadServiceConfigOptions {
  /** Directory holding default.yaml and <env>.yaml. */
  configDir?: string;
  env?: Record<string, string | undefined>;
  /** Applied last (CLI flags, tests). */
  overrides?: Record<string, unknown>;
}

/** default.yaml, then <WEIR_ENV>.yaml, then WEIR_* environment variables, then explicit overrides. */
export function loadServiceConfig(options: LoadServiceConfigOptions = {}): ServiceConfig {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? env.WEIR_CONFIG_DIR ?? 'config';
  let merged: Record<string, unknown> = {};
  const files = [join(dir, 'default.yaml'), ...(env.WEIR_ENV ? [join(dir, `${env.WEIR_ENV}.yaml`)] : [])];
  for (const file of files) {
    if (!existsSync(file)) {
      if (file.endsWith('default.yaml')) continue; // running outside the repo: built-in defaults
      throw new ConfigError(`WEIR_ENV=${env.WEIR_ENV}, but ${file} does not exist`);
    }
    merged = deepMerge(merged, (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>);
  }
  merged = deepMerge(merged, fromEnvironment(env));
  if (options.overrides) merged = deepMerge(merged, options.overrides);
  const result = serviceConfigSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ConfigError(`invalid service configuration: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
  }
  return { ...result.data, data_dir: resolve(result.data.data_dir) };
}

const RESERVED = new Set(['WEIR_ENV', 'WEIR_CONFIG_DIR']);

/** `WEIR_HTTP__PORT=9300` → `{ http: { port: 9300 } }`; values are read as YAML scalars. */
export function fromEnvironment(env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('WEIR_') || RESERVED.has(name) || raw === undefined) continue;
    const path = name.slice(5).toLowerCase().split('__');
    if (!(path[0] in serviceConfigSchema.shape)) continue; // other WEIR_* variables belong to topologies
    let node = out;
    path.slice(0, -1).forEach((key) => {
      node[key] = (node[key] as Record<string, unknown>) ?? {};
      node = node[key] as Record<string, unknown>;
    });
    node[path[path.length - 1]] = parseYaml(raw);
  }
  return out;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
