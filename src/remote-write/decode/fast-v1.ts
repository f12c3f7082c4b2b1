import { decodeHistogram, decodeSample } from './common-messages.js';
import { decodeRequestV2 } from './fast-v2.js';
import { internedLabel, internLabelPair } from '../../protobuf/interned-strings.js';
import { metricTypeFromWire } from '../metric-metadata.js';
import type { Exemplar, Histogram, Label, MetricMetadata, RemoteWriteVersion, Sample, TimeSeries, WriteRequest } from '../types.js';
import { WireReader } from '../../protobuf/wire-reader.js';
import { WIRE_FIXED64 as FIXED64, WIRE_LENGTH_DELIMITED as DELIMITED, WIRE_VARINT as VARINT, tag } from '../../protobuf/wire-types.js';

/**
 * The hot-path decoder: reads `prometheus.WriteRequest` (1.0) and `io.prometheus.write.v2.Request`
 * (2.0) straight from the body into the shared WriteRequest shape, with no intermediate message
 * tree. It must produce exactly what the reference codec (protobufjs) produces, and fail exactly
 * where it fails; src/remote-write/*.test.ts check that differentially.
 *
 * Each message decoder switches on the whole tag (field number and wire type): a known field with
 * an unexpected wire type falls through to `skipField`, as in protobufjs. `depth` arguments are the
 * message nesting depth, which bounds how deeply skipped groups may nest. This file holds 1.0;
 * fast-v2.ts holds 2.0 and common-messages.ts what both share.
 */

/** Decodes an uncompressed remote-write body of the given version. */
export function decodeWriteRequestFast(body: Uint8Array, version: RemoteWriteVersion): WriteRequest {
  const reader = new WireReader(body);
  return version === '1.0' ? decodeRequestV1(reader) : decodeRequestV2(reader);
}

// ---- Remote-write 1.0: prometheus.WriteRequest ----

const V1_REQUEST_TIMESERIES = tag(1, DELIMITED);
const V1_REQUEST_METADATA = tag(3, DELIMITED);

function decodeRequestV1(r: WireReader): WriteRequest {
  const end = r.bytes.length;
  const timeseries: TimeSeries[] = [];
  const metadata: MetricMetadata[] = [];
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === V1_REQUEST_TIMESERIES) {
      r.enter('timeseries', timeseries.length);
      const seriesEnd = r.readDelimitedEnd(end);
      timeseries.push(decodeSeriesV1(r, seriesEnd));
      r.leave();
    } else if (fieldTag === V1_REQUEST_METADATA) {
      r.enter('metadata', metadata.length);
      const metadataEnd = r.readDelimitedEnd(end);
      metadata.push(decodeMetricMetadataV1(r, metadataEnd));
      r.leave();
    } else {
      r.skipField(fieldTag, end, 0, tagAt);
    }
  }
  return { version: '1.0', timeseries, metadata };
}

const V1_SERIES_LABELS = tag(1, DELIMITED);
const V1_SERIES_SAMPLES = tag(2, DELIMITED);
const V1_SERIES_EXEMPLARS = tag(3, DELIMITED);
const V1_SERIES_HISTOGRAMS = tag(4, DELIMITED);

/** One 1.0 TimeSeries message, `r.pos` at its first byte; also used to build series lazily (raw-v1.ts). */
export function decodeSeriesV1(r: WireReader, end: number): TimeSeries {
  const labels: Label[] = [];
  const samples: Sample[] = [];
  const exemplars: Exemplar[] = [];
  const histograms: Histogram[] = [];
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === V1_SERIES_LABELS) {
      readLabel(r, end, 2, 'labels', labels);
    } else if (fieldTag === V1_SERIES_SAMPLES) {
      r.enter('samples', samples.length);
      const sampleEnd = r.readDelimitedEnd(end);
      samples.push(decodeSample(r, sampleEnd, 2));
      r.leave();
    } else if (fieldTag === V1_SERIES_EXEMPLARS) {
      r.enter('exemplars', exemplars.length);
      const exemplarEnd = r.readDelimitedEnd(end);
      exemplars.push(decodeExemplarV1(r, exemplarEnd));
      r.leave();
    } else if (fieldTag === V1_SERIES_HISTOGRAMS) {
      r.enter('histograms', histograms.length);
      const histogramEnd = r.readDelimitedEnd(end);
      histograms.push(decodeHistogram(r, histogramEnd, 2));
      r.leave();
    } else {
      r.skipField(fieldTag, end, 1, tagAt);
    }
  }
  return { labels, samples, exemplars, histograms };
}

const LABEL_NAME = tag(1, DELIMITED);
const LABEL_VALUE = tag(2, DELIMITED);

function readLabel(r: WireReader, end: number, depth: number, field: string, into: Label[]): void {
  r.enter(field, into.length);
  const labelEnd = r.readDelimitedEnd(end);
  if (internLabelPair(r.bytes, r.view, r.pos, labelEnd)) {
    r.pos = labelEnd;
    into.push({ name: internedLabel.name, value: internedLabel.value });
  } else {
    let name = '';
    let value = '';
    while (r.pos < labelEnd) {
      const tagAt = r.pos;
      const fieldTag = r.readTag(labelEnd);
      if (fieldTag === LABEL_NAME) name = r.readString(labelEnd);
      else if (fieldTag === LABEL_VALUE) value = r.readString(labelEnd);
      else r.skipField(fieldTag, labelEnd, depth, tagAt);
    }
    into.push({ name, value });
  }
  r.leave();
}

const V1_EXEMPLAR_LABELS = tag(1, DELIMITED);
const V1_EXEMPLAR_VALUE = tag(2, FIXED64);
const V1_EXEMPLAR_TIMESTAMP = tag(3, VARINT);

function decodeExemplarV1(r: WireReader, end: number): Exemplar {
  const labels: Label[] = [];
  let value = 0;
  let timestamp = 0;
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === V1_EXEMPLAR_LABELS) readLabel(r, end, 3, 'labels', labels);
    else if (fieldTag === V1_EXEMPLAR_VALUE) value = r.readDouble(end);
    else if (fieldTag === V1_EXEMPLAR_TIMESTAMP) timestamp = r.readInt64(end);
    else r.skipField(fieldTag, end, 2, tagAt);
  }
  return { labels, value, timestamp };
}

const V1_METADATA_TYPE = tag(1, VARINT);
const V1_METADATA_FAMILY_NAME = tag(2, DELIMITED);
const V1_METADATA_HELP = tag(4, DELIMITED);
const V1_METADATA_UNIT = tag(5, DELIMITED);

export function decodeMetricMetadataV1(r: WireReader, end: number): MetricMetadata {
  let type = 0;
  let metricFamilyName = '';
  let help = '';
  let unit = '';
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === V1_METADATA_TYPE) type = r.readInt32(end);
    else if (fieldTag === V1_METADATA_FAMILY_NAME) metricFamilyName = r.readString(end);
    else if (fieldTag === V1_METADATA_HELP) help = r.readString(end);
    else if (fieldTag === V1_METADATA_UNIT) unit = r.readString(end);
    else r.skipField(fieldTag, end, 1, tagAt);
  }
  return { metricFamilyName, type: metricTypeFromWire(type), help, unit };
}
