import type { MetricMetadata, MetricType, TimeSeries } from './types.js';

/**
 * Metadata rules shared by the fast and the reference decoder, so that both agree by construction
 * on what is not a matter of wire parsing.
 */

/** Wire numbers of the metric type enum; 1.0 (`MetricMetadata.MetricType`) and 2.0 share them. */
const METRIC_TYPES: readonly MetricType[] = [
  'unknown',
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
];

const WIRE_NUMBER_OF = new Map<MetricType, number>(METRIC_TYPES.map((type, wire) => [type, wire]));

/** Enum values this version does not know (a newer sender's) read as 'unknown', not as errors. */
export function metricTypeFromWire(wire: number): MetricType {
  return METRIC_TYPES[wire] ?? 'unknown';
}

export function metricTypeToWire(type: MetricType): number {
  return WIRE_NUMBER_OF.get(type) ?? 0;
}

/**
 * A 2.0 series' metadata as kept on the series: only when the sender set any of it, because an
 * absent `metadata` field and one with all defaults are the same thing on the wire.
 */
export function seriesMetadataOf(type: MetricType, help: string, unit: string): TimeSeries['metadata'] {
  return type === 'unknown' && help === '' && unit === '' ? undefined : { type, help, unit };
}

/**
 * Lifts 2.0 per-series metadata to request-level `MetricMetadata` (what 1.0 sends), named after
 * each series' `__name__`, in first-seen order and without duplicates. Series without a
 * `__name__` have no family to describe and are left out.
 */
export function liftSeriesMetadata(timeseries: readonly TimeSeries[]): MetricMetadata[] {
  const lifted: MetricMetadata[] = [];
  const seenByFamily = new Map<string, MetricMetadata[]>();
  for (const series of timeseries) {
    const metadata = series.metadata;
    if (metadata === undefined) continue;
    const family = metricNameOf(series);
    if (family === undefined) continue;
    let seen = seenByFamily.get(family);
    if (seen === undefined) {
      seen = [];
      seenByFamily.set(family, seen);
    }
    const duplicate = seen.some(
      (entry) => entry.type === metadata.type && entry.help === metadata.help && entry.unit === metadata.unit,
    );
    if (duplicate) continue;
    const entry: MetricMetadata = { metricFamilyName: family, type: metadata.type, help: metadata.help, unit: metadata.unit };
    seen.push(entry);
    lifted.push(entry);
  }
  return lifted;
}

/** The first `__name__` label's value (labels are not validated yet at this point). */
function metricNameOf(series: TimeSeries): string | undefined {
  for (const label of series.labels) if (label.name === '__name__') return label.value;
  return undefined;
}
