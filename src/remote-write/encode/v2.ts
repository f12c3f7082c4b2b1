/**
 * A hand-written `io.prometheus.write.v2.Request` (remote-write 2.0) encoder, with WireWriter
 * into a reused scratch buffer. Byte for byte what the protobufjs reference encoder
 * (reference-codec.test-support.ts) writes for the same request, symbols table included: it
 * starts with "", and every other string is added where the reference adds it, on first use,
 * series by series (labels, exemplars' labels, then help and unit).
 *
 * The symbols (field 4) come before the series (field 5) on the wire but are only known once the
 * series are written: the series are written first, then the symbols after them, and the two are
 * copied out in wire order.
 */
import { INT64_FIELD_BOUND, stringFieldBound, WireWriter } from '../../protobuf/wire-writer.js';
import { WIRE_FIXED64 as FIXED64, WIRE_LENGTH_DELIMITED as DELIMITED, WIRE_VARINT as VARINT, tag } from '../../protobuf/wire-types.js';
import { metricTypeToWire } from '../metric-metadata.js';
import type { Label, TimeSeries, WriteRequest } from '../types.js';
import { closeMessage, doubleField, releaseScratch, scratchWriter, writeHistogram, writeSample } from './common.js';

const REQUEST_SYMBOL = tag(4, DELIMITED);
const REQUEST_TIMESERIES = tag(5, DELIMITED);

const SERIES_LABELS_REFS = tag(1, DELIMITED);
const SERIES_SAMPLE = tag(2, DELIMITED);
const SERIES_HISTOGRAM = tag(3, DELIMITED);
const SERIES_EXEMPLAR = tag(4, DELIMITED);
const SERIES_METADATA = tag(5, DELIMITED);
const SERIES_CREATED_TIMESTAMP = tag(6, VARINT);

const EXEMPLAR_LABELS_REFS = tag(1, DELIMITED);
const EXEMPLAR_VALUE = tag(2, FIXED64);
const EXEMPLAR_TIMESTAMP = tag(3, VARINT);

const METADATA_TYPE = tag(1, VARINT);
const METADATA_HELP_REF = tag(3, VARINT);
const METADATA_UNIT_REF = tag(4, VARINT);

const SERIES_LENGTH_RESERVE = 2;
const SMALL_LENGTH_RESERVE = 1;

/** The symbols table being built: each string's reference, in order of first use. */
class Symbols {
  readonly list: string[] = [''];
  private readonly refs = new Map<string, number>([['', 0]]);

  ref(text: string): number {
    let ref = this.refs.get(text);
    if (ref === undefined) {
      ref = this.list.length;
      this.list.push(text);
      this.refs.set(text, ref);
    }
    return ref;
  }
}

/**
 * Encodes `req` as an uncompressed `io.prometheus.write.v2.Request`. Metadata comes from each
 * series' own `metadata`: 2.0 has no place for request-level metadata (`req.metadata` is not read).
 */
export function encodeWriteRequestV2(req: WriteRequest): Uint8Array {
  const w = scratchWriter();
  const symbols = new Symbols();
  const timeseries = req.timeseries;
  for (let i = 0; i < timeseries.length; i++) writeSeries(w, timeseries[i], symbols);
  const seriesEnd = w.at;
  const list = symbols.list;
  w.reserve(2);
  // symbols[0], "": written although empty, as every element of a repeated string is.
  w.buf[w.at++] = REQUEST_SYMBOL;
  w.buf[w.at++] = 0;
  for (let i = 1; i < list.length; i++) {
    w.reserve(stringFieldBound(list[i]));
    w.stringField(REQUEST_SYMBOL, list[i]);
  }
  const symbolsLength = w.at - seriesEnd;
  const out = Buffer.allocUnsafe(w.at);
  w.buf.copy(out, 0, seriesEnd, w.at);
  w.buf.copy(out, symbolsLength, 0, seriesEnd);
  releaseScratch(w);
  return out;
}

function writeSeries(w: WireWriter, s: TimeSeries, symbols: Symbols): void {
  w.reserve(1 + SERIES_LENGTH_RESERVE);
  const contentAt = w.open(REQUEST_TIMESERIES, SERIES_LENGTH_RESERVE);
  writeLabelRefs(w, SERIES_LABELS_REFS, s.labels, symbols);
  const samples = s.samples;
  for (let i = 0; i < samples.length; i++) writeSample(w, SERIES_SAMPLE, samples[i]);
  const histograms = s.histograms;
  for (let i = 0; i < histograms.length; i++) writeHistogram(w, SERIES_HISTOGRAM, histograms[i]);
  const exemplars = s.exemplars;
  for (let i = 0; i < exemplars.length; i++) {
    const e = exemplars[i];
    w.reserve(1 + SMALL_LENGTH_RESERVE);
    const exemplarAt = w.open(SERIES_EXEMPLAR, SMALL_LENGTH_RESERVE);
    writeLabelRefs(w, EXEMPLAR_LABELS_REFS, e.labels, symbols);
    w.reserve(9 + INT64_FIELD_BOUND);
    doubleField(w, EXEMPLAR_VALUE, e.value);
    w.int64Field(EXEMPLAR_TIMESTAMP, e.timestamp);
    closeMessage(w, exemplarAt, SMALL_LENGTH_RESERVE);
  }
  const metadata = s.metadata;
  if (metadata != null) {
    w.reserve(2 + 11 + 2 * 6);
    w.buf[w.at++] = SERIES_METADATA;
    const lengthAt = w.at++;
    const type = metricTypeToWire(metadata.type);
    if (type !== 0) {
      w.buf[w.at++] = METADATA_TYPE;
      w.int32(type);
    }
    const helpRef = symbols.ref(metadata.help);
    if (helpRef !== 0) {
      w.buf[w.at++] = METADATA_HELP_REF;
      w.varint32(helpRef);
    }
    const unitRef = symbols.ref(metadata.unit);
    if (unitRef !== 0) {
      w.buf[w.at++] = METADATA_UNIT_REF;
      w.varint32(unitRef);
    }
    w.buf[lengthAt] = w.at - lengthAt - 1; // at most 23 bytes
  }
  w.reserve(INT64_FIELD_BOUND);
  w.int64Field(SERIES_CREATED_TIMESTAMP, s.createdTimestamp ?? 0);
  closeMessage(w, contentAt, SERIES_LENGTH_RESERVE);
}

/** A packed `labels_refs` field (name and value reference per label), left out when there are no labels. */
function writeLabelRefs(w: WireWriter, fieldTag: number, labels: Label[], symbols: Symbols): void {
  if (labels.length === 0) return;
  // Tag, length, two references of up to 5 bytes per label.
  w.reserve(6 + labels.length * 10);
  const contentAt = w.open(fieldTag, SMALL_LENGTH_RESERVE);
  for (let i = 0; i < labels.length; i++) {
    w.varint32(symbols.ref(labels[i].name));
    w.varint32(symbols.ref(labels[i].value));
  }
  w.close(contentAt, SMALL_LENGTH_RESERVE);
}
