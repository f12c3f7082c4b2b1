/**
 * What the 1.0 and 2.0 remote-write encoders share: the messages both versions lay out alike
 * (Sample, Histogram, BucketSpan), the reused scratch buffer, and closing a nested message. Written
 * with WireWriter, byte for byte as protobufjs encodes them (the reference codec in
 * reference-codec.test-support.ts; encoders.differential.test.ts keeps the two in step): fields in
 * number order, proto3 fields left out at their default, oneof members and -0 doubles written.
 */
import { INT64_FIELD_BOUND, VARINT64_BOUND, WireWriter } from '../../protobuf/wire-writer.js';
import { WIRE_FIXED64 as FIXED64, WIRE_LENGTH_DELIMITED as DELIMITED, WIRE_VARINT as VARINT, tag } from '../../protobuf/wire-types.js';
import type { BucketSpan, Histogram, Sample } from '../types.js';

// Sample (the same in both versions).
const SAMPLE_VALUE = tag(1, FIXED64);
const SAMPLE_TIMESTAMP = tag(2, VARINT);

// Histogram (the same in both versions).
const H_COUNT_INT = tag(1, VARINT);
const H_COUNT_FLOAT = tag(2, FIXED64);
const H_SUM = tag(3, FIXED64);
const H_SCHEMA = tag(4, VARINT);
const H_ZERO_THRESHOLD = tag(5, FIXED64);
const H_ZERO_COUNT_INT = tag(6, VARINT);
const H_ZERO_COUNT_FLOAT = tag(7, FIXED64);
const H_NEGATIVE_SPANS = tag(8, DELIMITED);
const H_NEGATIVE_DELTAS = tag(9, DELIMITED);
const H_NEGATIVE_COUNTS = tag(10, DELIMITED);
const H_POSITIVE_SPANS = tag(11, DELIMITED);
const H_POSITIVE_DELTAS = tag(12, DELIMITED);
const H_POSITIVE_COUNTS = tag(13, DELIMITED);
const H_RESET_HINT = tag(14, VARINT);
const H_TIMESTAMP = tag(15, VARINT);
/** custom_values, field 16: its tag takes two bytes. */
const H_CUSTOM_VALUES_0 = 0x82;
const H_CUSTOM_VALUES_1 = 0x01;

const SPAN_OFFSET = tag(1, VARINT);
const SPAN_LENGTH = tag(2, VARINT);

/** Most bytes a varint length takes; a nested message's content moves by at most this less what was reserved. */
const LENGTH_BOUND = 5;

/** Kept between requests (encoding is synchronous) unless a request made it larger than this. */
const SCRATCH_KEEP = 16 << 20;
let scratch: Buffer = Buffer.allocUnsafe(1 << 16);

/** A writer on the scratch buffer, from its start. */
export function scratchWriter(): WireWriter {
  return new WireWriter(scratch);
}

/** Gives the scratch buffer back (it may have grown), unless it grew too big to keep. */
export function releaseScratch(w: WireWriter): void {
  if (w.buf.length <= SCRATCH_KEEP) scratch = w.buf;
}

/** Closes a nested message opened with `reserve` bytes for its length, with room for its content to move. */
export function closeMessage(w: WireWriter, contentAt: number, reserve: number): void {
  w.reserve(LENGTH_BOUND - reserve);
  w.close(contentAt, reserve);
}

/** A double field, left out when +0 (protobufjs writes -0). */
export function doubleField(w: WireWriter, fieldTag: number, n: number): void {
  if (Object.is(n, 0)) return;
  w.buf[w.at++] = fieldTag;
  w.double(n);
}

/** Most bytes a Sample field takes: tag, length, value, timestamp. */
const SAMPLE_BOUND = 2 + 9 + INT64_FIELD_BOUND;

export function writeSample(w: WireWriter, fieldTag: number, s: Sample): void {
  w.reserve(SAMPLE_BOUND);
  // At most 20 bytes of content: the one byte reserved for its length is always right.
  w.buf[w.at++] = fieldTag;
  const lengthAt = w.at++;
  doubleField(w, SAMPLE_VALUE, s.value);
  w.int64Field(SAMPLE_TIMESTAMP, s.timestamp);
  w.buf[lengthAt] = w.at - lengthAt - 1;
}

function spansBound(spans: BucketSpan[]): number {
  return spans.length * (2 + 2 * 6);
}

function writeSpans(w: WireWriter, fieldTag: number, spans: BucketSpan[]): void {
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    w.buf[w.at++] = fieldTag;
    const lengthAt = w.at++;
    if (span.offset !== 0) {
      w.buf[w.at++] = SPAN_OFFSET;
      w.sint32(span.offset);
    }
    if (span.length !== 0) {
      w.buf[w.at++] = SPAN_LENGTH;
      w.varint32(span.length >>> 0);
    }
    w.buf[lengthAt] = w.at - lengthAt - 1; // at most 12 bytes
  }
}

function writePackedZigzag(w: WireWriter, fieldTag: number, values: number[]): void {
  if (values.length === 0) return;
  const contentAt = w.open(fieldTag, 1);
  for (let i = 0; i < values.length; i++) w.zigzag64(values[i]);
  w.close(contentAt, 1); // room reserved with the histogram
}

function writePackedDoubles(w: WireWriter, values: number[]): void {
  w.varint32(values.length * 8);
  for (let i = 0; i < values.length; i++) w.double(values[i]);
}

export function writeHistogram(w: WireWriter, fieldTag: number, h: Histogram): void {
  const nd = h.negativeDeltas.length + h.positiveDeltas.length;
  const nc = h.negativeCounts.length + h.positiveCounts.length + h.customValues.length;
  // Tag, length, the scalar fields, spans, packed fields (tag and length each, and their values),
  // and room for the packed deltas' lengths and the histogram's to move.
  w.reserve(
    1 + LENGTH_BOUND + 2 * INT64_FIELD_BOUND + 3 * 9 + 6 + INT64_FIELD_BOUND + INT64_FIELD_BOUND +
      spansBound(h.negativeSpans) + spansBound(h.positiveSpans) +
      7 * 5 + nd * VARINT64_BOUND + nc * 8 + 2 * LENGTH_BOUND,
  );
  const contentAt = w.open(fieldTag, 2);
  if (h.countIsFloat) {
    w.buf[w.at++] = H_COUNT_FLOAT;
    w.double(h.count);
  } else {
    w.buf[w.at++] = H_COUNT_INT;
    w.varint64(h.count);
  }
  doubleField(w, H_SUM, h.sum);
  if (h.schema !== 0) {
    w.buf[w.at++] = H_SCHEMA;
    w.sint32(h.schema);
  }
  doubleField(w, H_ZERO_THRESHOLD, h.zeroThreshold);
  if (h.zeroCountIsFloat) {
    w.buf[w.at++] = H_ZERO_COUNT_FLOAT;
    w.double(h.zeroCount);
  } else {
    w.buf[w.at++] = H_ZERO_COUNT_INT;
    w.varint64(h.zeroCount);
  }
  writeSpans(w, H_NEGATIVE_SPANS, h.negativeSpans);
  writePackedZigzag(w, H_NEGATIVE_DELTAS, h.negativeDeltas);
  if (h.negativeCounts.length > 0) {
    w.buf[w.at++] = H_NEGATIVE_COUNTS;
    writePackedDoubles(w, h.negativeCounts);
  }
  writeSpans(w, H_POSITIVE_SPANS, h.positiveSpans);
  writePackedZigzag(w, H_POSITIVE_DELTAS, h.positiveDeltas);
  if (h.positiveCounts.length > 0) {
    w.buf[w.at++] = H_POSITIVE_COUNTS;
    writePackedDoubles(w, h.positiveCounts);
  }
  if (h.resetHint !== 0) {
    w.buf[w.at++] = H_RESET_HINT;
    w.int32(h.resetHint);
  }
  w.int64Field(H_TIMESTAMP, h.timestamp);
  if (h.customValues.length > 0) {
    w.buf[w.at++] = H_CUSTOM_VALUES_0;
    w.buf[w.at++] = H_CUSTOM_VALUES_1;
    writePackedDoubles(w, h.customValues);
  }
  closeMessage(w, contentAt, 2);
}

/** The request's bytes, copied out of the scratch buffer into a buffer of their own. */
export function copyOut(w: WireWriter, from: number, to: number): Buffer {
  const out = Buffer.allocUnsafe(to - from);
  w.buf.copy(out, 0, from, to);
  return out;
}
