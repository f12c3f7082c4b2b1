import { join } from 'node:path';
import protobuf from 'protobufjs';
import snappy from 'snappy';
import { loadCorpus } from './corpus.js';

/**
 * What the corpus holds, computed independently of weir's own codec: straight from protobufjs
 * and the napi snappy binding. Series are keyed by their sorted label pairs (empty values dropped).
 */
export interface CorpusExpectations {
  series: Map<string, Record<string, string>>;
  /** Metric family → distinct {type, help, unit} entries, as JSON. */
  metadata: Map<string, Set<string>>;
}

const METRIC_TYPES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'];

export const canonicalLabels = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

let cached: CorpusExpectations | undefined;

export function corpusExpectations(): CorpusExpectations {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(import.meta.dirname, '../../proto', target);
  const WriteRequest = root.loadSync('prometheus/remote.proto').lookupType('prometheus.WriteRequest');
  const series = new Map<string, Record<string, string>>();
  const metadata = new Map<string, Set<string>>();
  for (const { body } of loadCorpus()) {
    const req = WriteRequest.toObject(WriteRequest.decode(snappy.uncompressSync(body) as Buffer), { enums: Number, defaults: true }) as {
      timeseries: Array<{ labels: Array<{ name: string; value: string }> }>;
      metadata: Array<{ type: number; metricFamilyName: string; help: string; unit: string }>;
    };
    for (const ts of req.timeseries) {
      const labels = Object.fromEntries(ts.labels.filter((l) => l.value !== '').map((l) => [l.name, l.value]));
      series.set(canonicalLabels(labels), labels);
    }
    for (const m of req.metadata) {
      const entries = metadata.get(m.metricFamilyName) ?? new Set<string>();
      entries.add(JSON.stringify({ type: METRIC_TYPES[m.type], help: m.help, unit: m.unit }));
      metadata.set(m.metricFamilyName, entries);
    }
  }
  cached = { series, metadata };
  return cached;
}

/** The same shape from a Prometheus /api/v1/metadata answer, to compare with `metadata`. */
export function metadataAsSets(data: Record<string, Array<{ type: string; help: string; unit: string }>>): Map<string, Set<string>> {
  return new Map(Object.entries(data).map(([family, entries]) => [family, new Set(entries.map((e) => JSON.stringify({ type: e.type, help: e.help, unit: e.unit })))]));
}
