/**
 * A hand-written weir.v1.IndexEvents encoder for the hot path: a batch is written in one pass into
 * a reused scratch buffer, partition by partition, then copied into one buffer of its exact size;
 * each message's value is a view into that. Series of a raw remote-write request (a
 * HashedSeriesBatch) are written from their label bytes in the request, copied as they are with
 * only each label's field number changed, when those bytes already are the canonical labels: no
 * string is made. The layout is the .proto's, fields in number order; a test decodes the output
 * with protobufjs (index-event-writer.test.ts) to keep the two in step.
 *
 *   IndexEvents  1: SeriesEvent*, 2: MetadataEvent* (length-delimited), 3: source, 4: received_at_ms
 *   SeriesEvent  1: hash (8 bytes), 2: Label*, 3: first_timestamp_ms, 4: last_timestamp_ms
 *   Label        1: name, 2: value
 */
import type { CanonicalSeries, SeriesBatch } from '../series/canonical.js';
import { hashHigh } from '../series/series-hash.js';
import { metadataHash } from '../series/metadata-identity.js';
import { isHashedSeriesBatch, type HashedSeriesBatch } from '../series/hashed-batch.js';
import { compareBytes } from '../series/raw-canonical.js';
import { lengthEnd, readLength } from '../remote-write/decode/raw-v1.js';
import type { MetricMetadata } from '../remote-write/types.js';

// Tags: field number << 3 | wire type (0 varint, 2 length-delimited).
const EVENT_SERIES = 0x0a;
const EVENT_METADATA = 0x12;
const EVENT_SOURCE = 0x1a;
const EVENT_RECEIVED_AT = 0x20;
const SERIES_HASH = 0x0a;
const SERIES_LABEL = 0x12;
const SERIES_FIRST = 0x18;
const SERIES_LAST = 0x20;
const LABEL_NAME = 0x0a;
const LABEL_VALUE = 0x12;
/** A label field of a remote-write TimeSeries (field 1): SERIES_LABEL takes its place. */
const TIMESERIES_LABEL = 0x0a;
const METADATA_NAME = 0x0a;
const METADATA_TYPE = 0x12;
const METADATA_HELP = 0x1a;
const METADATA_UNIT = 0x22;

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

/** Bytes of a varint of an unsigned 32-bit length. */
function lengthSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Most bytes a string field of `text` can take: a UTF-16 unit is at most 3 bytes of UTF-8. */
const stringFieldBound = (text: string) => 6 + 3 * text.length;
/** Most bytes of an int64 field: tag + 10. */
const INT64_FIELD_BOUND = 11;
/** A length written in this many bytes first; moved when the content turns out longer or shorter. */
const SERIES_LENGTH_RESERVE = 2;
const LABEL_LENGTH_RESERVE = 1;

/** Reused between batches (encoding is synchronous), grown when a batch needs more. */
let scratch = Buffer.allocUnsafe(1 << 16);

class ScratchWriter {
  at = 0;
  buf = scratch;

  /** Room for `bytes` more, growing the scratch buffer (and keeping what is written) if needed. */
  reserve(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = scratch = grown;
  }

  varint32(n: number): void {
    while (n >= 0x80) {
      this.buf[this.at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.at++] = n;
  }

  /** Opens a length-delimited field: its tag and `reserve` bytes for the length; returns where content starts. */
  open(tag: number, reserve: number): number {
    this.buf[this.at++] = tag;
    this.at += reserve;
    return this.at;
  }

  /**
   * Writes the length of the content from `contentAt` on into the `reserve` bytes before it, moving
   * the content if it needs more or fewer; returns where the content starts now.
   */
  close(contentAt: number, reserve: number): number {
    const length = this.at - contentAt;
    const size = lengthSize(length);
    if (size !== reserve) {
      this.buf.copyWithin(contentAt + size - reserve, contentAt, this.at);
      this.at += size - reserve;
    }
    let n = length;
    let p = contentAt - reserve;
    while (n >= 0x80) {
      this.buf[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[p] = n;
    return contentAt + size - reserve;
  }

  int64Field(tag: number, n: number): void {
    if (n === 0) return;
    this.buf[this.at++] = tag;
    if (n > 0 && Number.isSafeInteger(n)) {
      // Past 31 bits with float arithmetic (a ms timestamp takes two steps), then with int32 ops.
      while (n > 0x7fffffff) {
        this.buf[this.at++] = (n % 128) | 0x80;
        n = Math.floor(n / 128);
      }
      let m = n | 0;
      while (m >= 0x80) {
        this.buf[this.at++] = (m & 0x7f) | 0x80;
        m >>>= 7;
      }
      this.buf[this.at++] = m;
      return;
    }
    // Negative (or not an integer: truncated, as protobufjs does): 64-bit two's complement, 10 bytes.
    let v = BigInt.asUintN(64, BigInt(Math.trunc(n)));
    for (let i = 0; i < 9; i++) {
      this.buf[this.at++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.at++] = Number(v);
  }

  /** A string field, left out when empty (proto3). Label text is nearly always ASCII: copied as is, with no encoder call. */
  stringField(tag: number, text: string): void {
    const units = text.length;
    if (units === 0) return;
    this.buf[this.at++] = tag;
    const lengthAt = this.at;
    this.varint32(units);
    for (let i = 0; i < units; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        this.at = lengthAt;
        const bytes = Buffer.byteLength(text, 'utf8');
        this.varint32(bytes);
        this.at += this.buf.write(text, this.at, bytes, 'utf8');
        return;
      }
      this.buf[this.at++] = c;
    }
  }

  bytes(from: Uint8Array): void {
    for (let i = 0; i < from.length; i++) this.buf[this.at++] = from[i];
  }
}


/** The fields every message ends with (source, received_at_ms), encoded once per batch. */
function batchTrailer(source: string, receivedAt: number): Uint8Array {
  const w = new ScratchWriter();
  w.buf = Buffer.allocUnsafe(stringFieldBound(source) + INT64_FIELD_BOUND);
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
  const w = new ScratchWriter();
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

  const out = Buffer.allocUnsafe(w.at);
  w.buf.copy(out, 0, 0, w.at);
  return found.map((m) => ({ partition: m.partition, value: out.subarray(m.start, m.end), series: m.series, metadata: m.metadata }));
}

function writeSeries(w: ScratchWriter, s: CanonicalSeries): void {
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
function writeRawSeries(w: ScratchWriter, batch: HashedSeriesBatch, c: number): boolean {
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
      p = lengthEnd + labelLength;
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
    const labelEnd = lengthEnd + labelLength;
    if (labelEnd > labelsEnd) return false;
    let q = lengthEnd;
    if (buf[q] !== LABEL_NAME) return false;
    const nameLength = readLength(buf, q + 1, labelEnd);
    if (nameLength <= 0) return false;
    const nameAt = lengthEnd;
    q = nameAt + nameLength;
    if (q >= labelEnd || buf[q] !== LABEL_VALUE) return false;
    const valueLength = readLength(buf, q + 1, labelEnd);
    if (valueLength <= 0 || lengthEnd + valueLength !== labelEnd) return false;
    if (previousLength >= 0 && compareBytes(buf, previousAt, previousLength, nameAt, nameLength) >= 0) return false;
    previousAt = nameAt;
    previousLength = nameLength;
    p = labelEnd;
  }
  return true;
}

function rewind(w: ScratchWriter, seriesAt: number): false {
  w.at = seriesAt - SERIES_LENGTH_RESERVE - 1;
  return false;
}

function writeMetadata(w: ScratchWriter, m: MetricMetadata): void {
  w.reserve(1 + 5 + stringFieldBound(m.metricFamilyName) + stringFieldBound(m.type) + stringFieldBound(m.help) + stringFieldBound(m.unit));
  const eventAt = w.open(EVENT_METADATA, SERIES_LENGTH_RESERVE);
  w.stringField(METADATA_NAME, m.metricFamilyName);
  w.stringField(METADATA_TYPE, m.type);
  w.stringField(METADATA_HELP, m.help);
  w.stringField(METADATA_UNIT, m.unit);
  w.close(eventAt, SERIES_LENGTH_RESERVE);
}
