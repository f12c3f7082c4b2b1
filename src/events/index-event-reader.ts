/**
 * A hand-written weir.v1.IndexEvents decoder for the indexer's hot path, the reading twin of
 * index-event-writer.ts. protobufjs builds an object per message, label and int64 (a Long), and
 * the hash check then wrote every label back into bytes; here each message is walked once, the
 * label pairs are copied byte for byte into the buffer the check hashes, and strings are made only
 * for what the index keeps. A differential test (index-event-reader.test.ts) holds it to protobufjs.
 * The fields' tags are in index-event-layout.ts; the wire format is read with WireReader
 * (src/protobuf/), the remote-write decoders' reader, with its rules and limits.
 *
 * Like protobufjs, a repeated singular field keeps its last value and unknown fields are skipped.
 */
import xxhash from 'xxhash-wasm';
import { InvalidInputError } from '../errors.js';
import type { CanonicalSeries } from '../series/canonical.js';
import { seriesHash } from '../series/series-hash.js';
import { seriesKey } from '../series/series-key.js';
import { WireReader } from '../protobuf/wire-reader.js';
import type { Label, MetricMetadata, MetricType } from '../remote-write/types.js';
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

const { h64Raw } = await xxhash();

// The message nesting depth of each message, which bounds how deeply skipped groups may nest (as in protobufjs).
const EVENTS_DEPTH = 0;
const EVENT_DEPTH = 1;
const LABEL_DEPTH = 2;

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

/** The labels' `name\xff value\xff …` bytes, reused between messages (decoding is synchronous). */
let hashInput = new Uint8Array(1 << 12);

/**
 * Decodes one IndexEvents message, appending its series and metadata entries to the arrays given;
 * never throws. A message that is not valid protobuf appends nothing (protobufjs rejects it whole);
 * a series whose hash does not match its labels is left out, with a problem saying so.
 */
export function readIndexEvents(value: Uint8Array | null, series: CanonicalSeries[], metadata: MetricMetadata[]): ReadResult {
  if (!value) return { problems: ['empty message'] };
  const seriesBefore = series.length;
  const metadataBefore = metadata.length;
  try {
    return readEvents(new WireReader(value, 'IndexEvents'), series, metadata);
  } catch (err) {
    if (!(err instanceof InvalidInputError || err instanceof RangeError)) throw err;
    series.length = seriesBefore;
    metadata.length = metadataBefore;
    const detail = err instanceof InvalidInputError ? err.details[0] : undefined;
    return { problems: [`not a weir.v1.IndexEvents: ${detail ? `${detail.reason} (${detail.where})` : err.message}`] };
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

function readEvents(r: WireReader, series: CanonicalSeries[], metadata: MetricMetadata[]): ReadResult {
  const end = r.bytes.length;
  let seriesCount = 0;
  let metadataCount = 0;
  let receivedAt = 0;
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === EVENT_SERIES) {
      const seriesEnd = r.readDelimitedEnd(end);
      seriesRanges = pushRange(seriesRanges, seriesCount++, r.pos, seriesEnd);
      r.pos = seriesEnd;
    } else if (fieldTag === EVENT_METADATA) {
      const metadataEnd = r.readDelimitedEnd(end);
      metadataRanges = pushRange(metadataRanges, metadataCount++, r.pos, metadataEnd);
      r.pos = metadataEnd;
    } else if (fieldTag === EVENT_RECEIVED_AT) {
      receivedAt = r.readInt64(end);
    } else if (fieldTag === EVENT_SOURCE) {
      // The source is not indexed, but a string field must be UTF-8, as the reference decoder checks.
      r.readString(end);
    } else {
      r.skipField(fieldTag, end, EVENTS_DEPTH, tagAt);
    }
  }
  if (seriesCount === 0 && metadataCount === 0) return { receivedAt, problems: ['message carries neither series nor metadata'] };
  const problems: string[] = [];
  const ranges = seriesRanges;
  const metaRanges = metadataRanges;
  for (let i = 0; i < seriesCount; i++) {
    r.pos = ranges[2 * i];
    r.enter('series', i);
    const s = readSeries(r, ranges[2 * i + 1]);
    r.leave();
    if (typeof s === 'string') problems.push(s);
    else series.push(s);
  }
  for (let i = 0; i < metadataCount; i++) {
    r.pos = metaRanges[2 * i];
    r.enter('metadata', i);
    metadata.push(readMetadata(r, metaRanges[2 * i + 1]));
    r.leave();
  }
  return { receivedAt, problems };
}

/** The series, or why it is not indexed. */
function readSeries(r: WireReader, end: number): CanonicalSeries | string {
  const buf = r.bytes;
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
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === SERIES_LABEL) {
      r.enter('labels', labels.length);
      const labelEnd = r.readDelimitedEnd(end);
      // Label: name (1) and value (2), each possibly absent (proto3 default '').
      let nameAt = 0;
      let nameEnd = 0;
      let valueAt = 0;
      let valueEnd = 0;
      while (r.pos < labelEnd) {
        const labelTagAt = r.pos;
        const labelTag = r.readTag(labelEnd);
        if (labelTag === LABEL_NAME) {
          nameEnd = r.readDelimitedEnd(labelEnd);
          nameAt = r.pos;
          r.pos = nameEnd;
        } else if (labelTag === LABEL_VALUE) {
          valueEnd = r.readDelimitedEnd(labelEnd);
          valueAt = r.pos;
          r.pos = valueEnd;
        } else {
          r.skipField(labelTag, labelEnd, LABEL_DEPTH, labelTagAt);
        }
      }
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
      // Short ASCII texts come from the intern table the remote-write decoder fills: the repeated
      // names and values of a window are one string each (less garbage, one hash in the index's maps).
      const name = r.stringAt(nameAt, nameEnd);
      const value = r.stringAt(valueAt, valueEnd);
      if (name === '__name__' && !named) {
        metricName = value;
        named = true;
      }
      labels.push({ name, value });
      r.leave();
    } else if (fieldTag === SERIES_HASH) {
      const hashEnd = r.readDelimitedEnd(end);
      hashAt = r.pos;
      hashLength = hashEnd - r.pos;
      r.pos = hashEnd;
    } else if (fieldTag === SERIES_FIRST) {
      first = r.readInt64(end);
    } else if (fieldTag === SERIES_LAST) {
      last = r.readInt64(end);
    } else {
      r.skipField(fieldTag, end, EVENT_DEPTH, tagAt);
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

function readMetadata(r: WireReader, end: number): MetricMetadata {
  let metricFamilyName = '';
  let type = '';
  let help = '';
  let unit = '';
  while (r.pos < end) {
    const tagAt = r.pos;
    const fieldTag = r.readTag(end);
    if (fieldTag === METADATA_NAME) metricFamilyName = r.readString(end);
    else if (fieldTag === METADATA_TYPE) type = r.readString(end);
    else if (fieldTag === METADATA_HELP) help = r.readString(end);
    else if (fieldTag === METADATA_UNIT) unit = r.readString(end);
    else r.skipField(fieldTag, end, EVENT_DEPTH, tagAt);
  }
  return { metricFamilyName, type: METRIC_TYPES.has(type) ? (type as MetricType) : 'unknown', help, unit };
}

/** Copies `buf[from..to)` and a separator into the hash input at `at`; returns the bytes OR-ed (≥ 0x80: not ASCII). */
function copyForHash(buf: Buffer, from: number, to: number, at: number): number {
  let high = 0;
  for (let i = from; i < to; i++) high |= hashInput[at++] = buf[i];
  hashInput[at] = SEPARATOR;
  return high;
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
