/**
 * A hand-written weir.v1.IndexEvent encoder for the hot path: a whole batch is written in one pass
 * into a reused scratch buffer, then copied into one buffer of its exact size; each message's key
 * and value are views into that. protobufjs
 * builds a writer, an object per field and a buffer per message; on the new-series path that was
 * most of the sink's CPU. The layout is the .proto's, fields in number order; a test decodes its
 * output with protobufjs (index-event-writer.test.ts) to keep the two in step.
 *
 *   IndexEvent   1: SeriesEvent | 2: MetadataEvent (length-delimited), 3: source, 4: received_at_ms
 *   SeriesEvent  1: hash (8 bytes), 2: Label*, 3: first_timestamp_ms, 4: last_timestamp_ms
 *   Label        1: name, 2: value
 */
import type { CanonicalSeries } from '../remote-write/canonical.js';
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
const METADATA_NAME = 0x0a;
const METADATA_TYPE = 0x12;
const METADATA_HELP = 0x1a;
const METADATA_UNIT = 0x22;

export interface EncodedEvent {
  key: Buffer;
  value: Buffer;
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
      while (n >= 0x80) {
        this.buf[this.at++] = (n % 128) | 0x80;
        n = Math.floor(n / 128);
      }
      this.buf[this.at++] = n;
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

/** The fields every event of a batch ends with (source, received_at_ms), encoded once per batch. */
function batchTrailer(source: string, receivedAt: number): Uint8Array {
  const w = new ScratchWriter();
  w.buf = Buffer.allocUnsafe(stringFieldBound(source) + INT64_FIELD_BOUND);
  w.stringField(EVENT_SOURCE, source);
  w.int64Field(EVENT_RECEIVED_AT, receivedAt);
  return Uint8Array.prototype.slice.call(w.buf, 0, w.at);
}

/**
 * One IndexEvent per series, then one per metadata entry, byte for byte as protobufjs encodes
 * them: values and keys (8-byte big-endian hash) are views of a single buffer. `metadataKey` gives
 * a metadata entry's 8-byte key.
 */
export function writeIndexEvents(series: readonly CanonicalSeries[], metadata: readonly MetricMetadata[], source: string, receivedAt: number, metadataKey: (m: MetricMetadata) => Buffer): EncodedEvent[] {
  const count = series.length + metadata.length;
  if (count === 0) return [];
  const trailer = batchTrailer(source, receivedAt);
  const w = new ScratchWriter();
  // Where each event's value ends (and the next one starts), and where each series' hash is.
  const ends = new Array<number>(count + 1);
  const keys = new Array<number>(series.length);
  ends[0] = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i];
    const labels = s.labels;
    let bound = 1 + SERIES_LENGTH_RESERVE + 10 + 2 * INT64_FIELD_BOUND + trailer.length + 8;
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
    // The hash is the content's first field, after its tag and length (0x0a 0x08).
    keys[i] = w.close(seriesAt, SERIES_LENGTH_RESERVE) + 2;
    w.bytes(trailer);
    ends[i + 1] = w.at;
  }
  for (let i = 0; i < metadata.length; i++) {
    const m = metadata[i];
    w.reserve(1 + 5 + stringFieldBound(m.metricFamilyName) + stringFieldBound(m.type) + stringFieldBound(m.help) + stringFieldBound(m.unit) + trailer.length);
    const eventAt = w.open(EVENT_METADATA, SERIES_LENGTH_RESERVE);
    w.stringField(METADATA_NAME, m.metricFamilyName);
    w.stringField(METADATA_TYPE, m.type);
    w.stringField(METADATA_HELP, m.help);
    w.stringField(METADATA_UNIT, m.unit);
    w.close(eventAt, SERIES_LENGTH_RESERVE);
    w.bytes(trailer);
    ends[series.length + i + 1] = w.at;
  }

  const out = Buffer.allocUnsafe(w.at);
  w.buf.copy(out, 0, 0, w.at);
  const events = new Array<EncodedEvent>(count);
  for (let i = 0; i < series.length; i++) {
    events[i] = { key: out.subarray(keys[i], keys[i] + 8), value: out.subarray(ends[i], ends[i + 1]) };
  }
  for (let i = series.length; i < count; i++) {
    events[i] = { key: metadataKey(metadata[i - series.length]), value: out.subarray(ends[i], ends[i + 1]) };
  }
  return events;
}
