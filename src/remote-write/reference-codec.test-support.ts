import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { InvalidInputError } from '../errors.js';
import { liftSeriesMetadata, metricTypeFromWire, metricTypeToWire, seriesMetadataOf } from './metric-metadata.js';
import type { Exemplar, Histogram, Label, MetricMetadata, Sample, TimeSeries, WriteRequest } from './types.js';

/**
 * The reference codec: protobufjs, driven by the .proto files in `proto/`. It is the yardstick the
 * hand-written fast decoder is tested against, and the encoder tests and the load generator use.
 * Not for the hot path: it builds an intermediate message tree and Long objects.
 */

/** protobufjs decodes 64-bit integers as Long objects (or numbers when `long` is unavailable). */
type WireInt64 = number | { toNumber(): number };

interface WireLabel { name: string; value: string }
interface WireSample { value: number; timestamp: WireInt64 }
interface WireExemplarV1 { labels: WireLabel[]; value: number; timestamp: WireInt64 }
interface WireBucketSpan { offset: number; length: number }
interface WireHistogram {
  count?: 'countInt' | 'countFloat';
  countInt: WireInt64;
  countFloat: number;
  sum: number;
  schema: number;
  zeroThreshold: number;
  zeroCount?: 'zeroCountInt' | 'zeroCountFloat';
  zeroCountInt: WireInt64;
  zeroCountFloat: number;
  negativeSpans: WireBucketSpan[];
  negativeDeltas: WireInt64[];
  negativeCounts: number[];
  positiveSpans: WireBucketSpan[];
  positiveDeltas: WireInt64[];
  positiveCounts: number[];
  resetHint: number;
  timestamp: WireInt64;
  customValues: number[];
}
interface WireMetricMetadataV1 { type: number; metricFamilyName: string; help: string; unit: string }
interface WireTimeSeriesV1 { labels: WireLabel[]; samples: WireSample[]; exemplars: WireExemplarV1[]; histograms: WireHistogram[] }
interface WireWriteRequestV1 { timeseries: WireTimeSeriesV1[]; metadata: WireMetricMetadataV1[] }

interface WireExemplarV2 { labelsRefs: number[]; value: number; timestamp: WireInt64 }
interface WireMetadataV2 { type: number; helpRef: number; unitRef: number }
interface WireTimeSeriesV2 {
  labelsRefs: number[];
  samples: WireSample[];
  histograms: WireHistogram[];
  exemplars: WireExemplarV2[];
  metadata: WireMetadataV2 | null;
  createdTimestamp: WireInt64;
}
interface WireRequestV2 { symbols: string[]; timeseries: WireTimeSeriesV2[] }

interface Schema {
  writeRequestV1: protobuf.Type;
  requestV2: protobuf.Type;
}

/** `proto/` at the repository root, from src/remote-write (test support only). */
const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

let schema: Schema | undefined;

/** Loaded on first use, so that importing the module costs nothing when only encoding is needed later. */
function loadSchema(): Schema {
  if (schema !== undefined) return schema;
  const root = new protobuf.Root();
  // Imports are relative to proto/, as with `protoc -I proto`.
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(['prometheus/remote.proto', 'io/prometheus/write/v2/types.proto']);
  root.resolveAll();
  schema = {
    writeRequestV1: root.lookupType('prometheus.WriteRequest'),
    requestV2: root.lookupType('io.prometheus.write.v2.Request'),
  };
  return schema;
}

function decodeWire<T>(type: protobuf.Type, bytes: Uint8Array): T {
  // A plain Uint8Array view: protobufjs reads Buffers differently (non-validating string decoding).
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return type.decode(view) as unknown as T;
  } catch (err) {
    const reason = (err as Error).message;
    throw new InvalidInputError(`protobuf: ${reason}`, [{ where: type.name, reason }], { cause: err });
  }
}

function toNumber(value: WireInt64): number {
  return typeof value === 'number' ? value : value.toNumber();
}

const toLabel = (label: WireLabel): Label => ({ name: label.name, value: label.value });
const toSample = (sample: WireSample): Sample => ({ value: sample.value, timestamp: toNumber(sample.timestamp) });

function toHistogram(wire: WireHistogram): Histogram {
  return {
    count: wire.count === 'countFloat' ? wire.countFloat : toNumber(wire.countInt),
    countIsFloat: wire.count === 'countFloat',
    sum: wire.sum,
    schema: wire.schema,
    zeroThreshold: wire.zeroThreshold,
    zeroCount: wire.zeroCount === 'zeroCountFloat' ? wire.zeroCountFloat : toNumber(wire.zeroCountInt),
    zeroCountIsFloat: wire.zeroCount === 'zeroCountFloat',
    negativeSpans: wire.negativeSpans.map((span) => ({ offset: span.offset, length: span.length })),
    negativeDeltas: wire.negativeDeltas.map(toNumber),
    negativeCounts: [...wire.negativeCounts],
    positiveSpans: wire.positiveSpans.map((span) => ({ offset: span.offset, length: span.length })),
    positiveDeltas: wire.positiveDeltas.map(toNumber),
    positiveCounts: [...wire.positiveCounts],
    resetHint: wire.resetHint,
    timestamp: toNumber(wire.timestamp),
    customValues: [...wire.customValues],
  };
}

/** Decodes an uncompressed `prometheus.WriteRequest` (remote-write 1.0). */
export function decodeWriteRequestV1Reference(bytes: Uint8Array): WriteRequest {
  const wire = decodeWire<WireWriteRequestV1>(loadSchema().writeRequestV1, bytes);
  const timeseries = wire.timeseries.map(
    (series): TimeSeries => ({
      labels: series.labels.map(toLabel),
      samples: series.samples.map(toSample),
      exemplars: series.exemplars.map(
        (exemplar): Exemplar => ({
          labels: exemplar.labels.map(toLabel),
          value: exemplar.value,
          timestamp: toNumber(exemplar.timestamp),
        }),
      ),
      histograms: series.histograms.map(toHistogram),
    }),
  );
  const metadata = wire.metadata.map(
    (entry): MetricMetadata => ({
      metricFamilyName: entry.metricFamilyName,
      type: metricTypeFromWire(entry.type),
      help: entry.help,
      unit: entry.unit,
    }),
  );
  return { version: '1.0', timeseries, metadata };
}

function invalidV2(where: string, reason: string): InvalidInputError {
  return new InvalidInputError(`remote-write 2.0: ${reason} (${where})`, [{ where, reason }]);
}

/** Resolves symbol references; 0 is always the empty string, as the spec requires of symbols[0]. */
function resolveSymbol(symbols: string[], ref: number, where: string): string {
  if (ref === 0) return '';
  if (ref >= symbols.length) throw invalidV2(where, `symbol reference ${ref} out of range (${symbols.length} symbols)`);
  return symbols[ref];
}

function resolveLabelRefs(symbols: string[], refs: number[], where: string): Label[] {
  if (refs.length % 2 !== 0) throw invalidV2(where, `odd number of label references (${refs.length})`);
  const labels: Label[] = [];
  for (let i = 0; i < refs.length; i += 2) {
    labels.push({ name: resolveSymbol(symbols, refs[i], where), value: resolveSymbol(symbols, refs[i + 1], where) });
  }
  return labels;
}

/** Decodes an uncompressed `io.prometheus.write.v2.Request` into the shared shape. */
export function decodeWriteRequestV2Reference(bytes: Uint8Array): WriteRequest {
  const wire = decodeWire<WireRequestV2>(loadSchema().requestV2, bytes);
  const symbols = wire.symbols;
  if (symbols.length > 0 && symbols[0] !== '') throw invalidV2('symbols[0]', 'the first symbol must be the empty string');
  const timeseries = wire.timeseries.map((series, i): TimeSeries => {
    const where = `timeseries[${i}]`;
    const wireMetadata = series.metadata ?? { type: 0, helpRef: 0, unitRef: 0 };
    const decoded: TimeSeries = {
      labels: resolveLabelRefs(symbols, series.labelsRefs, `${where}.labels_refs`),
      samples: series.samples.map(toSample),
      exemplars: series.exemplars.map(
        (exemplar, j): Exemplar => ({
          labels: resolveLabelRefs(symbols, exemplar.labelsRefs, `${where}.exemplars[${j}].labels_refs`),
          value: exemplar.value,
          timestamp: toNumber(exemplar.timestamp),
        }),
      ),
      histograms: series.histograms.map(toHistogram),
      createdTimestamp: toNumber(series.createdTimestamp),
    };
    const metadata = seriesMetadataOf(
      metricTypeFromWire(wireMetadata.type),
      resolveSymbol(symbols, wireMetadata.helpRef, `${where}.metadata.help_ref`),
      resolveSymbol(symbols, wireMetadata.unitRef, `${where}.metadata.unit_ref`),
    );
    // The key stays absent rather than `undefined` when unset, as in the fast decoder.
    if (metadata !== undefined) decoded.metadata = metadata;
    return decoded;
  });
  return { version: '2.0', timeseries, metadata: liftSeriesMetadata(timeseries) };
}

function toWireHistogram(histogram: Histogram): Record<string, unknown> {
  return {
    ...(histogram.countIsFloat ? { countFloat: histogram.count } : { countInt: histogram.count }),
    sum: histogram.sum,
    schema: histogram.schema,
    zeroThreshold: histogram.zeroThreshold,
    ...(histogram.zeroCountIsFloat ? { zeroCountFloat: histogram.zeroCount } : { zeroCountInt: histogram.zeroCount }),
    negativeSpans: histogram.negativeSpans,
    negativeDeltas: histogram.negativeDeltas,
    negativeCounts: histogram.negativeCounts,
    positiveSpans: histogram.positiveSpans,
    positiveDeltas: histogram.positiveDeltas,
    positiveCounts: histogram.positiveCounts,
    resetHint: histogram.resetHint,
    timestamp: histogram.timestamp,
    customValues: histogram.customValues,
  };
}

/** Encodes as an uncompressed `prometheus.WriteRequest`; 2.0-only series fields are dropped. */
export function encodeWriteRequestV1(req: WriteRequest): Uint8Array {
  return loadSchema()
    .writeRequestV1.encode({
      timeseries: req.timeseries.map((series) => ({
        labels: series.labels,
        samples: series.samples,
        exemplars: series.exemplars,
        histograms: series.histograms.map(toWireHistogram),
      })),
      metadata: req.metadata.map((entry) => ({
        type: metricTypeToWire(entry.type),
        metricFamilyName: entry.metricFamilyName,
        help: entry.help,
        unit: entry.unit,
      })),
    })
    .finish();
}

/**
 * Encodes as an uncompressed `io.prometheus.write.v2.Request`, interning every string in a symbols
 * table that starts with ''. Metadata comes from each series' own `metadata`: 2.0 has no place for
 * request-level metadata, so callers converting a 1.0 request set it on the series first.
 */
export function encodeWriteRequestV2(req: WriteRequest): Uint8Array {
  const symbols: string[] = [''];
  const refOf = new Map<string, number>([['', 0]]);
  const intern = (text: string): number => {
    let ref = refOf.get(text);
    if (ref === undefined) {
      ref = symbols.length;
      symbols.push(text);
      refOf.set(text, ref);
    }
    return ref;
  };
  const labelRefs = (labels: Label[]): number[] => labels.flatMap((label) => [intern(label.name), intern(label.value)]);
  const timeseries = req.timeseries.map((series) => ({
    labelsRefs: labelRefs(series.labels),
    samples: series.samples,
    histograms: series.histograms.map(toWireHistogram),
    exemplars: series.exemplars.map((exemplar) => ({
      labelsRefs: labelRefs(exemplar.labels),
      value: exemplar.value,
      timestamp: exemplar.timestamp,
    })),
    metadata:
      series.metadata === undefined
        ? undefined
        : {
            type: metricTypeToWire(series.metadata.type),
            helpRef: intern(series.metadata.help),
            unitRef: intern(series.metadata.unit),
          },
    createdTimestamp: series.createdTimestamp ?? 0,
  }));
  return loadSchema().requestV2.encode({ symbols, timeseries }).finish();
}
