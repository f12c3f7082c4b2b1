/**
 * A hand-written `prometheus.WriteRequest` (remote-write 1.0) encoder: the request is written in
 * one pass into a reused scratch buffer with WireWriter, then copied into a buffer of its exact
 * size. Byte for byte what the protobufjs reference encoder (reference-codec.test-support.ts)
 * writes for the same request: fields in number order, proto3 defaults left out. 2.0-only series
 * fields (metadata, created timestamp) are dropped, as the reference drops them.
 */
import { INT64_FIELD_BOUND, stringFieldBound, WireWriter } from '../../protobuf/wire-writer.js';
import { WIRE_FIXED64 as FIXED64, WIRE_LENGTH_DELIMITED as DELIMITED, WIRE_VARINT as VARINT, tag } from '../../protobuf/wire-types.js';
import { metricTypeToWire } from '../metric-metadata.js';
import type { Exemplar, Label, MetricMetadata, TimeSeries, WriteRequest } from '../types.js';
import { closeMessage, copyOut, doubleField, releaseScratch, scratchWriter, writeHistogram, writeSample } from './common.js';

const REQUEST_TIMESERIES = tag(1, DELIMITED);
const REQUEST_METADATA = tag(3, DELIMITED);

const SERIES_LABEL = tag(1, DELIMITED);
const SERIES_SAMPLE = tag(2, DELIMITED);
const SERIES_EXEMPLAR = tag(3, DELIMITED);
const SERIES_HISTOGRAM = tag(4, DELIMITED);

const LABEL_NAME = tag(1, DELIMITED);
const LABEL_VALUE = tag(2, DELIMITED);

const EXEMPLAR_LABEL = tag(1, DELIMITED);
const EXEMPLAR_VALUE = tag(2, FIXED64);
const EXEMPLAR_TIMESTAMP = tag(3, VARINT);

const METADATA_TYPE = tag(1, VARINT);
const METADATA_FAMILY_NAME = tag(2, DELIMITED);
const METADATA_HELP = tag(4, DELIMITED);
const METADATA_UNIT = tag(5, DELIMITED);

/** Bytes first reserved for a length: a series usually takes 128 bytes to 16 KiB, a label or an exemplar fewer than 128. */
const SERIES_LENGTH_RESERVE = 2;
const SMALL_LENGTH_RESERVE = 1;

/** Encodes `req` as an uncompressed `prometheus.WriteRequest`. */
export function encodeWriteRequestV1(req: WriteRequest): Uint8Array {
  const w = scratchWriter();
  const timeseries = req.timeseries;
  for (let i = 0; i < timeseries.length; i++) writeSeries(w, timeseries[i]);
  const metadata = req.metadata;
  for (let i = 0; i < metadata.length; i++) writeMetadata(w, metadata[i]);
  const out = copyOut(w, 0, w.at);
  releaseScratch(w);
  return out;
}

function writeSeries(w: WireWriter, s: TimeSeries): void {
  w.reserve(1 + SERIES_LENGTH_RESERVE);
  const contentAt = w.open(REQUEST_TIMESERIES, SERIES_LENGTH_RESERVE);
  const labels = s.labels;
  for (let i = 0; i < labels.length; i++) writeLabel(w, SERIES_LABEL, labels[i]);
  const samples = s.samples;
  for (let i = 0; i < samples.length; i++) writeSample(w, SERIES_SAMPLE, samples[i]);
  const exemplars = s.exemplars;
  for (let i = 0; i < exemplars.length; i++) writeExemplar(w, exemplars[i]);
  const histograms = s.histograms;
  for (let i = 0; i < histograms.length; i++) writeHistogram(w, SERIES_HISTOGRAM, histograms[i]);
  closeMessage(w, contentAt, SERIES_LENGTH_RESERVE);
}

function writeLabel(w: WireWriter, fieldTag: number, label: Label): void {
  // Tag, a length of up to 5 bytes, the two strings: the label's content can move on close.
  w.reserve(6 + stringFieldBound(label.name) + stringFieldBound(label.value));
  const contentAt = w.open(fieldTag, SMALL_LENGTH_RESERVE);
  w.stringField(LABEL_NAME, label.name);
  w.stringField(LABEL_VALUE, label.value);
  w.close(contentAt, SMALL_LENGTH_RESERVE);
}

function writeExemplar(w: WireWriter, e: Exemplar): void {
  w.reserve(1 + SMALL_LENGTH_RESERVE);
  const contentAt = w.open(SERIES_EXEMPLAR, SMALL_LENGTH_RESERVE);
  const labels = e.labels;
  for (let i = 0; i < labels.length; i++) writeLabel(w, EXEMPLAR_LABEL, labels[i]);
  w.reserve(9 + INT64_FIELD_BOUND);
  doubleField(w, EXEMPLAR_VALUE, e.value);
  w.int64Field(EXEMPLAR_TIMESTAMP, e.timestamp);
  closeMessage(w, contentAt, SMALL_LENGTH_RESERVE);
}

function writeMetadata(w: WireWriter, m: MetricMetadata): void {
  w.reserve(
    6 + INT64_FIELD_BOUND + stringFieldBound(m.metricFamilyName) + stringFieldBound(m.help) + stringFieldBound(m.unit),
  );
  const contentAt = w.open(REQUEST_METADATA, SMALL_LENGTH_RESERVE);
  const type = metricTypeToWire(m.type);
  if (type !== 0) {
    w.buf[w.at++] = METADATA_TYPE;
    w.int32(type);
  }
  w.stringField(METADATA_FAMILY_NAME, m.metricFamilyName);
  w.stringField(METADATA_HELP, m.help);
  w.stringField(METADATA_UNIT, m.unit);
  w.close(contentAt, SMALL_LENGTH_RESERVE);
}
