/**
 * A hand-written weir.v1.IndexEvents encoder for the hot path: a batch is written in one pass into
 * a reused scratch buffer, partition by partition, then copied into one buffer of its exact size;
 * each message's value is a view into that. Series of a raw remote-write request (a
 * HashedSeriesBatch) are written from their label bytes in the request, copied as they are with
 * only each label's field number changed, when those bytes already are the canonical labels: no
 * string is made. The layout is the .proto's, fields in number order; a test decodes the output
 * with protobufjs (index-event-writer.test.ts) to keep the two in step. The fields' tags are in
 * index-event-layout.ts, the wire format's primitives in src/protobuf/ (WireWriter).
 */
import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import { hashHigh } from '../series/series-hash.js';
import { metadataHash } from '../series/metadata-identity.js';
import { isHashedSeriesBatch, type HashedSeriesBatch } from '../series/hashed-batch.js';
import { compareBytes } from '../protobuf/bytes.js';
import { readLength, varintEnd } from '../protobuf/varint.js';
import { INT64_FIELD_BOUND, stringFieldBound, WireWriter } from '../protobuf/wire-writer.js';
import { WIRE_LENGTH_DELIMITED as DELIMITED, tag } from '../protobuf/wire-types.js';
import type { MetricMetadata } from '../remote-write/types.js';
import {
  EVENT_METADATA,
  EVENT_RECEIVED_AT,
  EVENT_SERIES,
  EVENT_SOURCE,
  LABEL_NAME,
  LABEL_VALUE,
  METADATA_HELP,
  METADATA_NAME,
  METADATA_TYPE,
  METADATA_UNIT,
  SERIES_FIRST,
  SERIES_HASH,
  SERIES_LABEL,
  SERIES_LAST,
} from './index-event-layout.js';

/** A label field of a remote-write TimeSeries (field 1): SERIES_LABEL takes its place. */
const TIMESERIES_LABEL = tag(1, DELIMITED);

/** One Kafka message: a batch's events for one partition (or some of them, past the size limit). */
export interface EncodedEvents {
  partition: number;
  value: Buffer;
  /** Series and metadata entries it carries. */
  series: number;
  metadata: number;
}

/** The partition of a hash whose upper 32 bits are `hi`: the rule the .proto states. */
export function partitionOf(hi: number, partitions: number): number {
  return (hi >>> 0) % partitions;
}

/** A length written in this many bytes first; moved when the content turns out longer or shorter. */
const SERIES_LENGTH_RESERVE = 2;
const LABEL_LENGTH_RESERVE = 1;

/** Reused between batches (encoding is synchronous), grown when a batch needs more. */
let scratch: Buffer = Buffer.allocUnsafe(1 << 16);

/** The fields every message ends with (source, received_at_ms), encoded once per batch. */
function batchTrailer(source: string, receivedAt: number): Uint8Array {
  const w = new WireWriter(Buffer.allocUnsafe(stringFieldBound(source) + INT64_FIELD_BOUND));
  w.stringField(EVENT_SOURCE, source);
  w.int64Field(EVENT_RECEIVED_AT, receivedAt);
  return Uint8Array.prototype.slice.call(w.buf, 0, w.at);
}

/**
 * The batch's series and metadata entries as IndexEvents messages, one per partition that has
 * any (series in batch order, then metadata), byte for byte as protobufjs encodes them; a
 * message is closed once it holds `maxBytes` and the rest of its partition goes on in another.
 * The values are views of a single buffer.
 */
export function writeIndexEvents(batch: SeriesBatch, source: string, partitions: number, maxBytes: number): EncodedEvents[] {
  const hashed = isHashedSeriesBatch(batch) ? batch : undefined;
  const list = hashed === undefined ? batch.series : undefined;
  const seriesCount = hashed !== undefined ? hashed.size : list!.length;
  const metadata = batch.metadata;
  const total = seriesCount + metadata.length;
  if (total === 0) return [];

  // Every entry's partition (series first, then metadata), and the entries grouped by partition
  // in their order (a counting sort).
  const partitionOfEntry = new Int32Array(total);
  const starts = new Int32Array(partitions + 1);
  for (let i = 0; i < seriesCount; i++) {
    const p = partitionOf(hashed !== undefined ? hashed.hashHi[i] : hashHigh(list![i].hash), partitions);
    partitionOfEntry[i] = p;
    starts[p + 1]++;
  }
  for (let j = 0; j < metadata.length; j++) {
    const p = partitionOf(hashHigh(metadataHash(metadata[j])), partitions);
    partitionOfEntry[seriesCount + j] = p;
    starts[p + 1]++;
  }
  for (let p = 0; p < partitions; p++) starts[p + 1] += starts[p];
  const order = new Int32Array(total);
  for (let e = 0; e < total; e++) order[starts[partitionOfEntry[e]]++] = e;

  const trailer = batchTrailer(source, batch.receivedAt);
  const w = new WireWriter(scratch);
  const found: Array<{ partition: number; start: number; end: number; series: number; metadata: number }> = [];
  let open: { partition: number; start: number; end: number; series: number; metadata: number } | undefined;
  const close = () => {
    w.reserve(trailer.length);
    w.bytes(trailer);
    open!.end = w.at;
    found.push(open!);
    open = undefined;
  };
  for (let k = 0; k < total; k++) {
    const e = order[k];
    const partition = partitionOfEntry[e];
    if (open !== undefined && open.partition !== partition) close();
    open ??= { partition, start: w.at, end: 0, series: 0, metadata: 0 };
    if (e < seriesCount) {
      if (hashed === undefined) writeSeries(w, list![e]);
      else if (!writeRawSeries(w, hashed, e)) writeSeries(w, hashed.canonical(e));
      open.series++;
    } else {
      writeMetadata(w, metadata[e - seriesCount]);
      open.metadata++;
    }
    if (w.at - open.start + trailer.length >= maxBytes && k + 1 < total && partitionOfEntry[order[k + 1]] === partition) close();
  }
  close();
  scratch = w.buf;

  const out = Buffer.allocUnsafe(w.at);
  w.buf.copy(out, 0, 0, w.at);
  return found.map((m) => ({ partition: m.partition, value: out.subarray(m.start, m.end), series: m.series, metadata: m.metadata }));
}

function writeSeries(w: WireWriter, s: CanonicalSeries): void {
  const labels = s.labels;
  let bound = 1 + SERIES_LENGTH_RESERVE + 10 + 2 * INT64_FIELD_BOUND;
  for (let j = 0; j < labels.length; j++) bound += 2 + 5 + stringFieldBound(labels[j].name) + stringFieldBound(labels[j].value);
  w.reserve(bound);
  const seriesAt = w.open(EVENT_SERIES, SERIES_LENGTH_RESERVE);
  w.buf[w.at++] = SERIES_HASH;
  w.buf[w.at++] = 8;
  w.buf.writeBigUInt64BE(BigInt.asUintN(64, s.hash), w.at);
  w.at += 8;
  for (let j = 0; j < labels.length; j++) {
    const labelAt = w.open(SERIES_LABEL, LABEL_LENGTH_RESERVE);
    w.stringField(LABEL_NAME, labels[j].name);
    w.stringField(LABEL_VALUE, labels[j].value);
    w.close(labelAt, LABEL_LENGTH_RESERVE);
  }
  w.int64Field(SERIES_FIRST, s.firstTimestamp);
  w.int64Field(SERIES_LAST, s.lastTimestamp);
  w.close(seriesAt, SERIES_LENGTH_RESERVE);
}

/**
 * Candidate `c` of a raw request, its labels copied from the request's bytes with each label's
 * field number changed: when those labels are canonical as they are (every label a non-empty name
 * then a non-empty value, names strictly increasing). Otherwise nothing is written and false
 * returned: the caller writes the canonical series.
 */
function writeRawSeries(w: WireWriter, batch: HashedSeriesBatch, c: number): boolean {
  const from = batch.request.bytes;
  const start = batch.labelsStart(c);
  const length = batch.labelsEnd(c) - start;
  // +3: room to move the content should its length need more than the bytes reserved.
  w.reserve(1 + SERIES_LENGTH_RESERVE + 10 + length + 2 * INT64_FIELD_BOUND + 3);
  const seriesAt = w.open(EVENT_SERIES, SERIES_LENGTH_RESERVE);
  const buf = w.buf;
  buf[w.at++] = SERIES_HASH;
  buf[w.at++] = 8;
  buf.writeUInt32BE(batch.hashHi[c], w.at);
  buf.writeUInt32BE(batch.hashLo[c], w.at + 4);
  w.at += 8;
  const labelsAt = w.at;
  const labelsEnd = labelsAt + length;
  if (length > 64) buf.set(from.subarray(start, start + length), labelsAt);
  else for (let i = 0; i < length; i++) buf[labelsAt + i] = from[start + i];
  if (batch.canonicalAsSent(c)) {
    // Checked by canonicalize: only each label's field number changes.
    for (let p = labelsAt; p < labelsEnd; ) {
      buf[p] = SERIES_LABEL;
      const labelLength = readLength(buf, p + 1, labelsEnd);
      if (labelLength < 0) return rewind(w, seriesAt);
      p = varintEnd + labelLength;
    }
  } else if (!canonicalLabelBytes(buf, labelsAt, labelsEnd)) return rewind(w, seriesAt);
  w.at = labelsEnd;
  w.int64Field(SERIES_FIRST, batch.firstTimestamp(c));
  w.int64Field(SERIES_LAST, batch.lastTimestamp(c));
  w.close(seriesAt, SERIES_LENGTH_RESERVE);
  return true;
}

/**
 * Changes each label field's number in `buf[start..end)` (a copy of a TimeSeries' label fields)
 * to SeriesEvent's, checking on the way that the labels are canonical as they are: every label a
 * non-empty name then a non-empty value, names strictly increasing.
 */
function canonicalLabelBytes(buf: Buffer, labelsAt: number, labelsEnd: number): boolean {
  let previousAt = 0;
  let previousLength = -1;
  for (let p = labelsAt; p < labelsEnd; ) {
    if (buf[p] !== TIMESERIES_LABEL) return false;
    buf[p] = SERIES_LABEL;
    const labelLength = readLength(buf, p + 1, labelsEnd);
    if (labelLength < 0) return false;
    const labelEnd = varintEnd + labelLength;
    if (labelEnd > labelsEnd) return false;
    let q = varintEnd;
    if (buf[q] !== LABEL_NAME) return false;
    const nameLength = readLength(buf, q + 1, labelEnd);
    if (nameLength <= 0) return false;
    const nameAt = varintEnd;
    q = nameAt + nameLength;
    if (q >= labelEnd || buf[q] !== LABEL_VALUE) return false;
    const valueLength = readLength(buf, q + 1, labelEnd);
    if (valueLength <= 0 || varintEnd + valueLength !== labelEnd) return false;
    if (previousLength >= 0 && compareBytes(buf, previousAt, previousLength, nameAt, nameLength) >= 0) return false;
    previousAt = nameAt;
    previousLength = nameLength;
    p = labelEnd;
  }
  return true;
}

function rewind(w: WireWriter, seriesAt: number): false {
  w.at = seriesAt - SERIES_LENGTH_RESERVE - 1;
  return false;
}

function writeMetadata(w: WireWriter, m: MetricMetadata): void {
  w.reserve(1 + 5 + stringFieldBound(m.metricFamilyName) + stringFieldBound(m.type) + stringFieldBound(m.help) + stringFieldBound(m.unit));
  const eventAt = w.open(EVENT_METADATA, SERIES_LENGTH_RESERVE);
  w.stringField(METADATA_NAME, m.metricFamilyName);
  w.stringField(METADATA_TYPE, m.type);
  w.stringField(METADATA_HELP, m.help);
  w.stringField(METADATA_UNIT, m.unit);
  w.close(eventAt, SERIES_LENGTH_RESERVE);
}
