/**
 * The decoded form of a remote-write request, shared by the 1.0 and 2.0 codecs.
 * Both versions decode to this one shape, so stages never care which version a sender spoke.
 */

export interface Label {
  name: string;
  value: string;
}

export interface Sample {
  value: number;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
}

export interface Exemplar {
  labels: Label[];
  value: number;
  timestamp: number;
}

/** A bucket span of a native histogram (offset from the previous span's end, and length). */
export interface BucketSpan {
  offset: number;
  length: number;
}

/** A native histogram sample, kept as sent: weir indexes series, it does not evaluate histograms. */
export interface Histogram {
  /** Integer count (`count_int`) or float count (`count_float`), whichever was set. */
  count: number;
  countIsFloat: boolean;
  sum: number;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  zeroCountIsFloat: boolean;
  negativeSpans: BucketSpan[];
  negativeDeltas: number[];
  negativeCounts: number[];
  positiveSpans: BucketSpan[];
  positiveDeltas: number[];
  positiveCounts: number[];
  /** As on the wire: 0 UNKNOWN, 1 YES, 2 NO, 3 GAUGE. */
  resetHint: number;
  timestamp: number;
  customValues: number[];
}

export type MetricType =
  | 'unknown'
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset';

/** Metadata of a metric family (1.0: request-level `metadata`; 2.0: per-series `metadata`). */
export interface MetricMetadata {
  metricFamilyName: string;
  type: MetricType;
  help: string;
  unit: string;
}

export interface TimeSeries {
  /** As sent: not yet sorted or validated (that is the canonicalize stage's job). */
  labels: Label[];
  samples: Sample[];
  exemplars: Exemplar[];
  histograms: Histogram[];
  /** 2.0 only: the series' own metadata (type/help/unit), when the sender set any of it. */
  metadata?: { type: MetricType; help: string; unit: string };
  /** 2.0 only: created timestamp in ms, 0 when unset. */
  createdTimestamp?: number;
}

export type RemoteWriteVersion = '1.0' | '2.0';

export interface WriteRequest {
  version: RemoteWriteVersion;
  timeseries: TimeSeries[];
  /** 1.0 request-level metadata; for 2.0 the codec lifts per-series metadata here too (deduplicated). */
  metadata: MetricMetadata[];
  /** What the request carried, when the codec counted it already (then nothing needs to walk `timeseries`). */
  counts?: WriteCounts;
}

/** What a request carried, for the 2.0 `X-Prometheus-Remote-Write-*-Written` headers and metrics. */
export interface WriteCounts {
  samples: number;
  histograms: number;
  exemplars: number;
}

export function countWriteRequest(req: WriteRequest): WriteCounts {
  if (req.counts !== undefined) return req.counts;
  let samples = 0;
  let histograms = 0;
  let exemplars = 0;
  for (const ts of req.timeseries) {
    samples += ts.samples.length;
    histograms += ts.histograms.length;
    exemplars += ts.exemplars.length;
  }
  return { samples, histograms, exemplars };
}
