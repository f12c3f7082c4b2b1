import type { Context, Hono } from 'hono';
import { InvalidInputError } from '../errors.js';
import type { Matcher } from '../index/matcher.js';
import { parseSeriesSelector } from '../index/selector.js';
import type { SeriesIndex } from '../index/series-index.js';

/** The index the query API reads; absent when the topology has no `api.index`. */
export type IndexProvider = SeriesIndex;

interface Params {
  all(name: string): string[];
  get(name: string): string | undefined;
}

/**
 * The series-browsing part of the Prometheus HTTP API, so Grafana's label browser and metric
 * pickers work against weir: /api/v1/series, /labels, /label/<name>/values, /metadata.
 * Answers use Prometheus' JSON shapes, including `bad_data` errors and truncation warnings.
 */
export function mountQueryApi(app: Hono, index: () => IndexProvider | undefined): void {
  const handle = (fn: (idx: IndexProvider, p: Params, c: Context) => Promise<{ data: unknown; warnings?: string[] }>) => async (c: Context) => {
    const idx = index();
    if (!idx) return c.json({ status: 'error', errorType: 'unavailable', error: 'this topology serves no series index (set api.index)' }, 404);
    try {
      const params = await readParams(c);
      const { data, warnings } = await fn(idx, params, c);
      return c.json(warnings?.length ? { status: 'success', data, warnings } : { status: 'success', data });
    } catch (err) {
      if (err instanceof InvalidInputError) return c.json({ status: 'error', errorType: 'bad_data', error: err.message }, 400);
      throw err;
    }
  };

  const series = handle(async (idx, p) => {
    const matcherSets = matchParam(p, true);
    const limit = limitParam(p);
    const rows = await idx.series(matcherSets, { ...timeRange(p), limit: limit === undefined ? undefined : limit + 1 });
    return truncated(rows, limit);
  });
  const labels = handle(async (idx, p) => {
    const limit = limitParam(p);
    const names = await idx.labelNames({ matcherSets: matchParam(p, false), ...timeRange(p), limit: limit === undefined ? undefined : limit + 1 });
    return truncated(names, limit);
  });
  const labelValues = handle(async (idx, p, c) => {
    const name = decodeLabelName(c.req.param('name') ?? '');
    const limit = limitParam(p);
    const values = await idx.labelValues(name, { matcherSets: matchParam(p, false), ...timeRange(p), limit: limit === undefined ? undefined : limit + 1 });
    return truncated(values, limit);
  });
  const metadata = handle(async (idx, p) => {
    const limit = limitParam(p, 'limit');
    const limitPerMetric = limitParam(p, 'limit_per_metric');
    return { data: await idx.metadata({ metric: p.get('metric') || undefined, limit, limitPerMetric }) };
  });

  app.on(['GET', 'POST'], '/api/v1/series', series);
  app.on(['GET', 'POST'], '/api/v1/labels', labels);
  app.get('/api/v1/label/:name/values', labelValues);
  app.get('/api/v1/metadata', metadata);
}

async function readParams(c: Context): Promise<Params> {
  const query = new URL(c.req.url).searchParams;
  const merged = new URLSearchParams(query);
  if (c.req.method === 'POST' && (c.req.header('content-type') ?? '').includes('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(await c.req.text())) merged.append(k, v);
  }
  return { all: (n) => merged.getAll(n), get: (n) => merged.get(n) ?? undefined };
}

function matchParam(p: Params, required: boolean): Matcher[][] {
  const raw = p.all('match[]');
  if (raw.length === 0 && required) throw new InvalidInputError('no match[] parameter provided');
  return raw.map((text, i) => {
    try {
      return parseSeriesSelector(text);
    } catch (err) {
      if (err instanceof InvalidInputError) throw new InvalidInputError(`invalid parameter "match[]" #${i + 1} (${JSON.stringify(text)}): ${err.message}`, err.details);
      throw err;
    }
  });
}

function timeRange(p: Params): { start?: number; end?: number } {
  const start = timeParam(p, 'start');
  const end = timeParam(p, 'end');
  if (start !== undefined && end !== undefined && end < start) throw new InvalidInputError('invalid parameter "end": end timestamp must not be before start time');
  return { start, end };
}

/** Prometheus accepts RFC 3339 or Unix seconds (with fractions); weir works in milliseconds. */
export function timeParam(p: Params, name: string): number | undefined {
  const raw = p.get(name);
  if (raw === undefined || raw === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.round(seconds * 1000);
  const ms = Date.parse(raw);
  if (/^\d{4}-\d{2}-\d{2}T/.test(raw) && Number.isFinite(ms)) return ms;
  throw new InvalidInputError(`invalid parameter "${name}": cannot parse "${raw}" to a valid timestamp`);
}

function limitParam(p: Params, name = 'limit'): number | undefined {
  const raw = p.get(name);
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidInputError(`invalid parameter "${name}": cannot parse "${raw}" to a non-negative integer`);
  return n === 0 ? undefined : n; // Prometheus: 0 means no limit
}

/** Ask for one more than the limit, so we can tell the client the answer was cut. */
function truncated<T>(rows: T[], limit: number | undefined): { data: T[]; warnings?: string[] } {
  if (limit === undefined || rows.length <= limit) return { data: rows };
  return { data: rows.slice(0, limit), warnings: ['results truncated due to limit'] };
}

/** Prometheus 3 lets clients escape UTF-8 label names in the path as `U__` + escapes. */
function decodeLabelName(raw: string): string {
  if (!raw.startsWith('U__')) return raw;
  return raw.slice(3).replace(/_([0-9a-fA-F]+)_|__/g, (m, hex?: string) => (hex ? String.fromCodePoint(parseInt(hex, 16)) : '_'));
}
