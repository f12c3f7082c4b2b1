/**
 * A hand-written weir.v1.IndexEvents decoder for the indexer's hot path, the reading twin of
 * index-event-writer.ts. protobufjs builds an object per message, label and int64 (a Long), and
 * the hash check then wrote every label back into bytes; here each message is walked once, the
 * label pairs are copied byte for byte into the buffer the check hashes, and strings are made only
 * for what the index keeps. A differential test (index-event-reader.test.ts) holds it to protobufjs.
 *
 *   IndexEvents  1: SeriesEvent*, 2: MetadataEvent* (length-delimited), 3: source, 4: received_at_ms
 *   SeriesEvent  1: hash (8 bytes), 2: Label*, 3: first_timestamp_ms, 4: last_timestamp_ms
 *   Label        1: name, 2: value
 *
 * Like protobufjs, a repeated singular field keeps its last value and unknown fields are skipped.
 */
import xxhash from 'xxhash-wasm';
import type { CanonicalSeries } from '../series/canonical.js';
import { seriesHash } from '../series/series-hash.js';
import { seriesKey } from '../series/series-key.js';
import { internAscii, MAX_INTERNED_STRING } from '../protobuf/interned-strings.js';
import type { Label, MetricMetadata, MetricType } from '../remote-write/types.js';

const { h64Raw } = await xxhash();

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;
/** Nesting (messages and groups) protobufjs skips fields at before it gives up (its Reader.recursionLimit). */
const MAX_DEPTH = 100;
/** Between label pairs in the bytes Prometheus hashes (as in `seriesHash`). */
const SEPARATOR = 0xff;

const METRIC_TYPES = new Set<string>(['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset']);

/** What reading one message gave, besides the series and metadata it appended. */
export interface ReadResult {
  /** The message's received_at_ms, when the message could be read. */
  receivedAt?: number;
  /** Why the message, or a series of it (one whose hash does not match its labels), is not indexed. */
  problems: string[];
}

class ProtoError extends Error {}

/** The labels' `name\xff value\xff …` bytes, reused between messages (decoding is synchronous). */
let hashInput = new Uint8Array(1 << 12);

/** A cursor over one message. */
class Reader {
  at: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.at = start;
  }

  /** An unsigned varint of up to 32 bits (tags and lengths). */
  uint32(): number {
    if (this.at >= this.end) throw new ProtoError('truncated varint');
    const b = this.buf[this.at++];
    if (b < 0x80) return b; // tags and most lengths
    let value = b & 0x7f;
    for (let scale = 0x80; scale <= 0x1000_0000; scale *= 0x80) {
      if (this.at >= this.end) throw new ProtoError('truncated varint');
      const next = this.buf[this.at++];
      value += (next & 0x7f) * scale;
      if (next < 0x80) {
        if (value > 0xffffffff) throw new ProtoError('varint too long for 32 bits');
        return value;
      }
    }
    throw new ProtoError('varint too long for 32 bits');
  }

  /** A field's tag; field number 0 is not a field (protobufjs rejects it too). */
  tag(): number {
    const tag = this.uint32();
    if (tag < 8) throw new ProtoError('illegal tag: field number 0');
    return tag;
  }

  /** An int64 varint as a number, as protobufjs' `Long#toNumber` gives it (exact below 2^53). */
  int64(): number {
    let lo = 0;
    let hi = 0;
    let i = 0;
    for (; i < 10; i++) {
      if (this.at >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.at++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) return (hi | 0) * 0x1_0000_0000 + (lo >>> 0);
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** A length-delimited field's end; the cursor is at its first byte. */
  lengthEnd(): number {
    const length = this.uint32();
    const end = this.at + length;
    if (end > this.end) throw new ProtoError('length past the end of the message');
    return end;
  }

  /**
   * Skips a field of `field` (its number) as protobufjs skips it: groups included, `depth` being the
   * message's nesting (0 for IndexEvents) plus the groups it is in, at most MAX_DEPTH.
   */
  skip(wireType: number, field: number, depth: number): void {
    if (depth > MAX_DEPTH) throw new ProtoError('max depth exceeded');
    switch (wireType) {
      case WIRE_VARINT:
        this.int64();
        return;
      case WIRE_FIXED64:
        this.at += 8;
        break;
      case WIRE_LENGTH:
        this.at = this.lengthEnd();
        return;
      case WIRE_FIXED32:
        this.at += 4;
        break;
      case WIRE_START_GROUP:
        // A (deprecated) group: its fields up to the end-group tag of the same field number.
        for (;;) {
          const tag = this.tag();
          if ((tag & 7) === WIRE_END_GROUP) {
            if (tag >>> 3 !== field) throw new ProtoError('invalid end group tag');
            return;
          }
          this.skip(tag & 7, tag >>> 3, depth + 1);
        }
      default:
        throw new ProtoError(`wire type ${wireType} not supported`);
    }
    if (this.at > this.end) throw new ProtoError('field past the end of the message');
  }
}

/**
 * Decodes one IndexEvents message, appending its series and metadata entries to the arrays given;
 * never throws. A message that is not valid protobuf appends nothing (protobufjs rejects it whole);
 * a series whose hash does not match its labels is left out, with a problem saying so.
 */
export function readIndexEvents(value: Uint8Array | null, series: CanonicalSeries[], metadata: MetricMetadata[]): ReadResult {
  if (!value) return { problems: ['empty message'] };
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const seriesBefore = series.length;
  const metadataBefore = metadata.length;
  try {
    return readEvents(new Reader(buf, 0, buf.length), series, metadata);
  } catch (err) {
    if (!(err instanceof ProtoError || err instanceof RangeError)) throw err;
    series.length = seriesBefore;
    metadata.length = metadataBefore;
    return { problems: [`not a weir.v1.IndexEvents: ${err.message}`] };
  }
}

/** Where the message's series and metadata fields are, as start/end pairs: reused (reading is synchronous). */
let seriesRanges: Int32Array = new Int32Array(2 * 1024);
let metadataRanges: Int32Array = new Int32Array(2 * 64);

function pushRange(ranges: Int32Array, count: number, start: number, end: number): Int32Array {
  if (2 * count + 2 > ranges.length) {
    const grown = new Int32Array(2 * ranges.length);
    grown.set(ranges);
    ranges = grown;
  }
  ranges[2 * count] = start;
  ranges[2 * count + 1] = end;
  return ranges;
}

function readEvents(r: Reader, series: CanonicalSeries[], metadata: MetricMetadata[]): ReadResult {
  let seriesCount = 0;
  let metadataCount = 0;
  let receivedAt = 0;
  while (r.at < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LENGTH) {
      const end = r.lengthEnd();
      seriesRanges = pushRange(seriesRanges, seriesCount++, r.at, end);
      r.at = end;
    } else if (field === 2 && wire === WIRE_LENGTH) {
      const end = r.lengthEnd();
      metadataRanges = pushRange(metadataRanges, metadataCount++, r.at, end);
      r.at = end;
    } else if (field === 4 && wire === WIRE_VARINT) {
      receivedAt = r.int64();
    } else if (field === 3 && wire === WIRE_LENGTH) {
      // The source is not indexed, but a string field must be UTF-8, as the reference decoder checks.
      const end = r.lengthEnd();
      strictUtf8(r.buf, r.at, end);
      r.at = end;
    } else {
      r.skip(wire, field, 0);
    }
  }
  if (seriesCount === 0 && metadataCount === 0) return { receivedAt, problems: ['message carries neither series nor metadata'] };
  const problems: string[] = [];
  const ranges = seriesRanges;
  const metaRanges = metadataRanges;
  for (let i = 0; i < seriesCount; i++) {
    const s = readSeries(new Reader(r.buf, ranges[2 * i], ranges[2 * i + 1]));
    if (typeof s === 'string') problems.push(s);
    else series.push(s);
  }
  for (let i = 0; i < metadataCount; i++) metadata.push(readMetadata(new Reader(r.buf, metaRanges[2 * i], metaRanges[2 * i + 1])));
  return { receivedAt, problems };
}

/** The series, or why it is not indexed. */
function readSeries(r: Reader): CanonicalSeries | string {
  const buf = r.buf;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let hashAt = -1;
  let hashLength = 0;
  let first = 0;
  let last = 0;
  const labels: Label[] = [];
  let metricName = '';
  let named = false;
  let hashed = 0;
  /** Any byte ≥ 0x80 in the labels: then they are hashed from their decoded text, as the writer hashed them. */
  let high = 0;
  while (r.at < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 2 && wire === WIRE_LENGTH) {
      const end = r.lengthEnd();
      // Label: name (1) and value (2), each possibly absent (proto3 default '').
      let nameAt = 0;
      let nameEnd = 0;
      let valueAt = 0;
      let valueEnd = 0;
      while (r.at < end) {
        const labelTag = r.tag();
        if (labelTag === 0x0a || labelTag === 0x12) {
          const stringEnd = r.lengthEnd();
          if (stringEnd > end) throw new ProtoError('label string past the end of the label');
          if (labelTag === 0x0a) {
            nameAt = r.at;
            nameEnd = stringEnd;
          } else {
            valueAt = r.at;
            valueEnd = stringEnd;
          }
          r.at = stringEnd;
        } else {
          r.skip(labelTag & 7, labelTag >>> 3, 2);
        }
      }
      if (r.at !== end) throw new ProtoError('label past its length');
      const room = hashed + (nameEnd - nameAt) + (valueEnd - valueAt) + 2;
      if (room > hashInput.length) {
        const grown = new Uint8Array(Math.max(room, hashInput.length * 2));
        grown.set(hashInput.subarray(0, hashed));
        hashInput = grown;
      }
      const nameHigh = copyForHash(buf, nameAt, nameEnd, hashed);
      hashed += nameEnd - nameAt + 1;
      const valueHigh = copyForHash(buf, valueAt, valueEnd, hashed);
      hashed += valueEnd - valueAt + 1;
      high |= nameHigh | valueHigh;
      const name = text(buf, view, nameAt, nameEnd, nameHigh);
      const value = text(buf, view, valueAt, valueEnd, valueHigh);
      if (name === '__name__' && !named) {
        metricName = value;
        named = true;
      }
      labels.push({ name, value });
    } else if (field === 1 && wire === WIRE_LENGTH) {
      const end = r.lengthEnd();
      hashAt = r.at;
      hashLength = end - r.at;
      r.at = end;
    } else if (field === 3 && wire === WIRE_VARINT) {
      first = r.int64();
    } else if (field === 4 && wire === WIRE_VARINT) {
      last = r.int64();
    } else {
      r.skip(wire, field, 1);
    }
  }
  if (hashLength !== 8) return 'series hash does not match its labels';
  const sent = buf.readBigUInt64BE(hashAt);
  // Invalid UTF-8 decodes to U+FFFD: hashing the decoded text (as before) rejects what the raw bytes would let through.
  const hash = high & 0x80 ? seriesHash(labels) : h64Raw(hashInput.subarray(0, hashed), 0n);
  if (sent !== hash) return 'series hash does not match its labels';
  const key = (high & 0x80 ? undefined : asciiSeriesKey(hashed)) ?? seriesKey(labels);
  return { labels, metricName, key, hash, firstTimestamp: first, lastTimestamp: last };
}

function readMetadata(r: Reader): MetricMetadata {
  const fields = ['', '', '', ''];
  while (r.at < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field >= 1 && field <= 4 && (tag & 7) === WIRE_LENGTH) {
      const end = r.lengthEnd();
      fields[field - 1] = strictUtf8(r.buf, r.at, end);
      r.at = end;
    } else {
      r.skip(tag & 7, field, 1);
    }
  }
  const [metricFamilyName, type, help, unit] = fields;
  return { metricFamilyName, type: METRIC_TYPES.has(type) ? (type as MetricType) : 'unknown', help, unit };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of `buf[from..to)`; a ProtoError when it is not valid UTF-8 (ASCII is checked by a scan, not decoded twice). */
function strictUtf8(buf: Buffer, from: number, to: number): string {
  let i = from;
  while (i < to && buf[i] < 0x80) i++;
  if (i === to) return buf.toString('latin1', from, to);
  try {
    return utf8.decode(buf.subarray(from, to));
  } catch {
    throw new ProtoError('invalid UTF-8 in a string field');
  }
}

/** Copies `buf[from..to)` and a separator into the hash input at `at`; returns the bytes OR-ed (≥ 0x80: not ASCII). */
function copyForHash(buf: Buffer, from: number, to: number, at: number): number {
  let high = 0;
  for (let i = from; i < to; i++) high |= hashInput[at++] = buf[i];
  hashInput[at] = SEPARATOR;
  return high;
}

/**
 * Label text: nearly always ASCII (no byte ≥ 0x80), where latin1 is the cheaper decoder and gives
 * the same string. Short ASCII texts come from the remote-write decoder's intern table: the
 * repeated names and values of a window are then one string each (less garbage, and their hash is
 * computed once for the index's maps).
 */
function text(buf: Buffer, view: DataView, from: number, to: number, high: number): string {
  if (from === to) return '';
  if (high & 0x80) return strictUtf8(buf, from, to);
  return (to - from <= MAX_INTERNED_STRING ? internAscii(buf, view, from, to) : undefined) ?? buf.toString('latin1', from, to);
}

let keyScratch = Buffer.allocUnsafe(1 << 12);

const isLetterOrUnderscore = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const METRIC_LABEL = Buffer.from('__name__\xff', 'latin1');

/** Whether the label name at `at` is `__name__` (followed by its separator). */
function isMetricLabel(input: Uint8Array, at: number, length: number): boolean {
  if (at + METRIC_LABEL.length > length) return false;
  for (let i = 0; i < METRIC_LABEL.length; i++) if (input[at + i] !== METRIC_LABEL[i]) return false;
  return true;
}

/**
 * `seriesKey` of all-ASCII labels, written straight from the hashed bytes (`name\xff value\xff …`);
 * undefined where a name needs quoting or `__name__` is not the first label (`seriesKey` then).
 */
function asciiSeriesKey(length: number): string | undefined {
  const input = hashInput;
  if (keyScratch.length < 2 * length + 2) keyScratch = Buffer.allocUnsafe(2 * length + 2);
  const key = keyScratch;
  let k = 0;
  let at = 0;
  if (isMetricLabel(input, 0, length)) {
    at = METRIC_LABEL.length;
    // A legacy metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) goes in front unquoted; '' means none.
    for (let first = true; input[at] !== SEPARATOR; first = false) {
      const c = input[at++];
      if (!(isLetterOrUnderscore(c) || c === 0x3a || (!first && isDigit(c)))) return undefined;
      key[k++] = c;
    }
    at++;
  }
  key[k++] = 0x7b; // {
  for (let first = true; at < length; first = false) {
    if (!first) key[k++] = 0x2c; // ,
    // A legacy label name ([a-zA-Z_][a-zA-Z0-9_]*) unquoted; anything else (or a later __name__) is seriesKey's.
    const nameAt = at;
    for (; input[at] !== SEPARATOR; at++) {
      const c = input[at];
      if (!(isLetterOrUnderscore(c) || (at > nameAt && isDigit(c)))) return undefined;
      key[k++] = c;
    }
    if (at === nameAt || isMetricLabel(input, nameAt, length)) return undefined;
    at++;
    key[k++] = 0x3d; // =
    key[k++] = 0x22; // "
    for (; input[at] !== SEPARATOR; at++) {
      const c = input[at];
      if (c === 0x5c || c === 0x22) key[k++] = 0x5c;
      else if (c === 0x0a) {
        key[k++] = 0x5c;
        key[k++] = 0x6e;
        continue;
      }
      key[k++] = c;
    }
    at++;
    key[k++] = 0x22;
  }
  key[k++] = 0x7d; // }
  return key.toString('latin1', 0, k);
}
