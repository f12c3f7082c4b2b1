import type { BucketSpan, Histogram, Sample } from '../types.js';
import type { WireReader } from '../../protobuf/wire-reader.js';
import { WIRE_FIXED64 as FIXED64, WIRE_LENGTH_DELIMITED as DELIMITED, WIRE_VARINT as VARINT, tag } from '../../protobuf/wire-types.js';

/**
 * Fast-decoder parts of the messages 1.0 and 2.0 share with the same field numbers: samples and
 * native histograms. `depth` is the message nesting depth, which bounds how deeply skipped groups
 * may nest (as in protobufjs).
 */

const SAMPLE_VALUE = tag(1, FIXED64);
const SAMPLE_TIMESTAMP = tag(2, VARINT);

export function decodeSample(r: WireReader, end: number, depth: number): Sample {
  let value = 0;
  let timestamp = 0;
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === SAMPLE_VALUE) value = r.readDouble(end);
    else if (fieldTag === SAMPLE_TIMESTAMP) timestamp = r.readInt64(end);
    else r.skipField(fieldTag, end, depth, tagAt);
  }
  return { value, timestamp };
}

const SPAN_OFFSET = tag(1, VARINT);
const SPAN_LENGTH = tag(2, VARINT);

function decodeBucketSpan(r: WireReader, end: number, depth: number): BucketSpan {
  let offset = 0;
  let length = 0;
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === SPAN_OFFSET) offset = r.readSint32(end);
    else if (fieldTag === SPAN_LENGTH) length = r.readUint32(end);
    else r.skipField(fieldTag, end, depth, tagAt);
  }
  return { offset, length };
}

const H_COUNT_INT = tag(1, VARINT);
const H_COUNT_FLOAT = tag(2, FIXED64);
const H_SUM = tag(3, FIXED64);
const H_SCHEMA = tag(4, VARINT);
const H_ZERO_THRESHOLD = tag(5, FIXED64);
const H_ZERO_COUNT_INT = tag(6, VARINT);
const H_ZERO_COUNT_FLOAT = tag(7, FIXED64);
const H_NEGATIVE_SPANS = tag(8, DELIMITED);
const H_NEGATIVE_DELTAS_PACKED = tag(9, DELIMITED);
const H_NEGATIVE_DELTA = tag(9, VARINT);
const H_NEGATIVE_COUNTS_PACKED = tag(10, DELIMITED);
const H_NEGATIVE_COUNT = tag(10, FIXED64);
const H_POSITIVE_SPANS = tag(11, DELIMITED);
const H_POSITIVE_DELTAS_PACKED = tag(12, DELIMITED);
const H_POSITIVE_DELTA = tag(12, VARINT);
const H_POSITIVE_COUNTS_PACKED = tag(13, DELIMITED);
const H_POSITIVE_COUNT = tag(13, FIXED64);
const H_RESET_HINT = tag(14, VARINT);
const H_TIMESTAMP = tag(15, VARINT);
const H_CUSTOM_VALUES_PACKED = tag(16, DELIMITED);
const H_CUSTOM_VALUE = tag(16, FIXED64);

export function decodeHistogram(r: WireReader, end: number, depth: number): Histogram {
  const h: Histogram = {
    count: 0,
    countIsFloat: false,
    sum: 0,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    zeroCountIsFloat: false,
    negativeSpans: [],
    negativeDeltas: [],
    negativeCounts: [],
    positiveSpans: [],
    positiveDeltas: [],
    positiveCounts: [],
    resetHint: 0,
    timestamp: 0,
    customValues: [],
  };
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    switch (fieldTag) {
      // count and zero_count are oneofs: the last member on the wire wins.
      case H_COUNT_INT:
        h.count = r.readUint64(end);
        h.countIsFloat = false;
        break;
      case H_COUNT_FLOAT:
        h.count = r.readDouble(end);
        h.countIsFloat = true;
        break;
      case H_SUM:
        h.sum = r.readDouble(end);
        break;
      case H_SCHEMA:
        h.schema = r.readSint32(end);
        break;
      case H_ZERO_THRESHOLD:
        h.zeroThreshold = r.readDouble(end);
        break;
      case H_ZERO_COUNT_INT:
        h.zeroCount = r.readUint64(end);
        h.zeroCountIsFloat = false;
        break;
      case H_ZERO_COUNT_FLOAT:
        h.zeroCount = r.readDouble(end);
        h.zeroCountIsFloat = true;
        break;
      case H_NEGATIVE_SPANS:
        readSpan(r, end, depth, 'negative_spans', h.negativeSpans);
        break;
      case H_NEGATIVE_DELTAS_PACKED:
        readPackedSint64(r, end, h.negativeDeltas);
        break;
      case H_NEGATIVE_DELTA:
        h.negativeDeltas.push(r.readSint64(end));
        break;
      case H_NEGATIVE_COUNTS_PACKED:
        r.readPackedDoubles(end, h.negativeCounts);
        break;
      case H_NEGATIVE_COUNT:
        h.negativeCounts.push(r.readDouble(end));
        break;
      case H_POSITIVE_SPANS:
        readSpan(r, end, depth, 'positive_spans', h.positiveSpans);
        break;
      case H_POSITIVE_DELTAS_PACKED:
        readPackedSint64(r, end, h.positiveDeltas);
        break;
      case H_POSITIVE_DELTA:
        h.positiveDeltas.push(r.readSint64(end));
        break;
      case H_POSITIVE_COUNTS_PACKED:
        r.readPackedDoubles(end, h.positiveCounts);
        break;
      case H_POSITIVE_COUNT:
        h.positiveCounts.push(r.readDouble(end));
        break;
      case H_RESET_HINT:
        h.resetHint = r.readInt32(end);
        break;
      case H_TIMESTAMP:
        h.timestamp = r.readInt64(end);
        break;
      case H_CUSTOM_VALUES_PACKED:
        r.readPackedDoubles(end, h.customValues);
        break;
      case H_CUSTOM_VALUE:
        h.customValues.push(r.readDouble(end));
        break;
      default:
        r.skipField(fieldTag, end, depth, tagAt);
    }
  }
  return h;
}

function readSpan(r: WireReader, end: number, histogramDepth: number, field: string, into: BucketSpan[]): void {
  r.enter(field, into.length);
  const spanEnd = r.readDelimitedEnd(end);
  into.push(decodeBucketSpan(r, spanEnd, histogramDepth + 1));
  r.leave();
}

function readPackedSint64(r: WireReader, end: number, into: number[]): void {
  const fieldEnd = r.readDelimitedEnd(end);
  while (r.pos < fieldEnd) into.push(r.readSint64(fieldEnd));
}
