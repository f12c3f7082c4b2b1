/**
 * A hand-written weir.v1.IndexEvent encoder for the hot path: a whole batch is written into one
 * buffer (sized by a first pass), and each message's key and value are views into it. protobufjs
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

/** Bytes of an int64 varint: negative numbers take 10 (two's complement), as protobuf says. */
function int64Size(n: number): number {
  if (n < 0 || !Number.isSafeInteger(n)) return 10;
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** UTF-8 length; label text is nearly always ASCII, which needs no encoder call. */
function utf8Size(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text, 'utf8');
  return text.length;
}

/** Length-delimited field sizes: tag + length varint + payload. */
const fieldSize = (payload: number) => 1 + lengthSize(payload) + payload;
/** proto3 leaves out scalars at their default (0, ''), as protobufjs does: so does this encoder. */
const stringFieldSize = (text: number) => (text === 0 ? 0 : fieldSize(text));
const int64FieldSize = (n: number) => (n === 0 ? 0 : 1 + int64Size(n));

class BufferWriter {
  at = 0;
  constructor(readonly buf: Buffer) {}

  byte(b: number): void {
    this.buf[this.at++] = b;
  }

  length(n: number): void {
    while (n >= 0x80) {
      this.buf[this.at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.at++] = n;
  }

  int64(n: number): void {
    if (n >= 0 && Number.isSafeInteger(n)) {
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

  /** `text` of `size` UTF-8 bytes (from utf8Size). */
  text(text: string, size: number): void {
    if (size === text.length) {
      for (let i = 0; i < size; i++) this.buf[this.at++] = text.charCodeAt(i);
    } else {
      this.at += this.buf.write(text, this.at, size, 'utf8');
    }
  }

  stringField(tag: number, text: string, size: number): void {
    if (size === 0) return;
    this.buf[this.at++] = tag;
    this.length(size);
    this.text(text, size);
  }

  int64Field(tag: number, n: number): void {
    if (n === 0) return;
    this.buf[this.at++] = tag;
    this.int64(n);
  }

  hash(hash: bigint): void {
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, hash), this.at);
    this.at += 8;
  }
}

/** A SeriesEvent's size; pushes each label's name and value sizes and its Label size for the second pass. */
function measureSeries(s: CanonicalSeries, textSizes: number[], labelSizes: number[]): number {
  let size = 2 + 8; // hash
  for (const l of s.labels) {
    const name = utf8Size(l.name);
    const value = utf8Size(l.value);
    textSizes.push(name, value);
    const label = stringFieldSize(name) + stringFieldSize(value);
    labelSizes.push(label);
    size += fieldSize(label);
  }
  return size + int64FieldSize(s.firstTimestamp) + int64FieldSize(s.lastTimestamp);
}

/**
 * One IndexEvent per series, then one per metadata entry, as protobufjs would encode them: values
 * and keys (8-byte big-endian hash) are views of a single buffer. `metadataKey` gives a metadata
 * entry's 8-byte key.
 */
export function writeIndexEvents(series: readonly CanonicalSeries[], metadata: readonly MetricMetadata[], source: string, receivedAt: number, metadataKey: (m: MetricMetadata) => Buffer): EncodedEvent[] {
  const sourceSize = utf8Size(source);
  const trailer = stringFieldSize(sourceSize) + int64FieldSize(receivedAt);
  const textSizes: number[] = [];
  const labelSizes: number[] = [];
  const seriesEventSizes = new Array<number>(series.length);
  let total = 0;
  for (let i = 0; i < series.length; i++) {
    const size = measureSeries(series[i], textSizes, labelSizes);
    seriesEventSizes[i] = size;
    total += fieldSize(size) + trailer;
  }
  const metadataSizes: number[] = [];
  for (const m of metadata) {
    const fields = [utf8Size(m.metricFamilyName), utf8Size(m.type), utf8Size(m.help), utf8Size(m.unit)];
    const event = fields.reduce((n, f) => n + stringFieldSize(f), 0);
    metadataSizes.push(...fields, event);
    total += fieldSize(event) + trailer;
  }

  const w = new BufferWriter(Buffer.allocUnsafe(total));
  const out = new Array<EncodedEvent>(series.length + metadata.length);
  let text = 0;
  let label = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i];
    const start = w.at;
    w.byte(EVENT_SERIES);
    w.length(seriesEventSizes[i]);
    w.byte(SERIES_HASH);
    w.byte(8);
    const keyAt = w.at;
    w.hash(s.hash);
    for (const l of s.labels) {
      w.byte(SERIES_LABEL);
      w.length(labelSizes[label++]);
      w.stringField(LABEL_NAME, l.name, textSizes[text++]);
      w.stringField(LABEL_VALUE, l.value, textSizes[text++]);
    }
    w.int64Field(SERIES_FIRST, s.firstTimestamp);
    w.int64Field(SERIES_LAST, s.lastTimestamp);
    w.stringField(EVENT_SOURCE, source, sourceSize);
    w.int64Field(EVENT_RECEIVED_AT, receivedAt);
    out[i] = { key: w.buf.subarray(keyAt, keyAt + 8), value: w.buf.subarray(start, w.at) };
  }
  let m5 = 0;
  for (let i = 0; i < metadata.length; i++) {
    const m = metadata[i];
    const start = w.at;
    const [name, type, help, unit, event] = metadataSizes.slice(m5, (m5 += 5));
    w.byte(EVENT_METADATA);
    w.length(event);
    w.stringField(METADATA_NAME, m.metricFamilyName, name);
    w.stringField(METADATA_TYPE, m.type, type);
    w.stringField(METADATA_HELP, m.help, help);
    w.stringField(METADATA_UNIT, m.unit, unit);
    w.stringField(EVENT_SOURCE, source, sourceSize);
    w.int64Field(EVENT_RECEIVED_AT, receivedAt);
    out[series.length + i] = { key: metadataKey(m), value: w.buf.subarray(start, w.at) };
  }
  if (w.at !== total) throw new Error(`index event writer: wrote ${w.at} bytes, measured ${total}`);
  return out;
}
