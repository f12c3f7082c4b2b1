import { shareMetadata } from '../../series/metadata-identity.js';
import { decodeMetricMetadataV1, decodeSeriesV1 } from './fast-v1.js';
import type { MetricMetadata, TimeSeries, WriteCounts, WriteRequest } from '../types.js';
import { WireReader } from '../../protobuf/wire-reader.js';
import { readLength, readShortVarint, varintEnd } from '../../protobuf/varint.js';

/**
 * A remote-write 1.0 request kept as its decoded (uncompressed) bytes plus an index of where each
 * series and its labels are: nothing is turned into strings until a stage asks for a series.
 * In the steady state nearly every series is already known to dedup, so canonicalize hashes the
 * raw label bytes and dedup drops the series without anyone ever building its labels.
 *
 * `scanWriteRequestV1` only accepts bodies in the shape Prometheus (and every sender we know)
 * writes: series made of their label fields first (ASCII name, then value), then samples
 * `{value, timestamp}`; request metadata is decoded at once. Anything else (exemplars, histograms,
 * UTF-8 labels, unknown fields, odd encodings) returns undefined and the caller uses the full
 * decoder, which also reports errors as before. What the scan accepts, the full decoder decodes
 * without failing, and series are built with its own per-series code, so both give the same.
 */
export class RawWriteRequestV1 implements WriteRequest {
  readonly version = '1.0' as const;
  private built: TimeSeries[] | undefined;

  constructor(
    /** The uncompressed protobuf body. */
    readonly bytes: Uint8Array,
    /** Per series, 3 numbers: start of the series message (= start of its labels), end of its labels, end of the message. */
    readonly bounds: Int32Array,
    /** Per series, first and last sample timestamp (ms); NaN when it has no sample. */
    readonly times: Float64Array,
    /** Per series, `hashRun` of its raw label bytes (`bounds` 0 to 1): what a label-bytes cache is indexed by. */
    readonly labelHashes: Int32Array,
    readonly seriesCount: number,
    readonly metadata: MetricMetadata[],
    readonly counts: WriteCounts,
  ) {}

  /** Every series, built on first use (stages that want them all: taps, a topology without canonicalize). */
  get timeseries(): TimeSeries[] {
    if (this.built === undefined) {
      const all: TimeSeries[] = [];
      for (let i = 0; i < this.seriesCount; i++) all.push(this.seriesAt(i));
      this.built = all;
    }
    return this.built;
  }

  /** Series `index`, exactly as the full decoder decodes it (the scan made sure it cannot fail). */
  seriesAt(index: number): TimeSeries {
    if (this.built !== undefined) return this.built[index];
    const reader = new WireReader(this.bytes);
    reader.pos = this.bounds[3 * index];
    return decodeSeriesV1(reader, this.bounds[3 * index + 2]);
  }
}

const TIMESERIES = 0x0a; // field 1, length-delimited
const METADATA = 0x1a; // field 3, length-delimited
const LABEL = 0x0a; // TimeSeries field 1
const SAMPLE = 0x12; // TimeSeries field 2
const SAMPLE_VALUE = 0x09; // Sample field 1, fixed64
const SAMPLE_TIMESTAMP = 0x10; // Sample field 2, varint

/**
 * Metadata entries by their exact bytes: a sender repeats the same entries every minute, so each is
 * decoded (and its identity and dedup hash worked out) once. Entries are never modified downstream.
 */
const decodedMetadata = new Map<string, MetricMetadata>();
const DECODED_METADATA_MAX = 20_000;
/**
 * The cache is bounded in bytes too: only entries of at most this many bytes are kept (real help
 * texts are a few hundred), and the whole cache is dropped once its keys add up to the limit. A
 * sender's huge help texts are decoded every time, never kept.
 */
export const DECODED_METADATA_MAX_ENTRY_BYTES = 4096;
const DECODED_METADATA_MAX_BYTES = 8 * 2 ** 20;
let decodedMetadataBytes = 0;

/** How much the metadata cache holds (for tests). */
export function decodedMetadataCacheSize(): { entries: number; bytes: number } {
  return { entries: decodedMetadata.size, bytes: decodedMetadataBytes };
}

const LABEL_NAME = 0x0a; // Label field 1
const LABEL_VALUE = 0x12; // Label field 2

/** Every label of the run `[start, end)` (label fields only) is a plain label. */
function arePlainLabels(bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
  let p = start;
  while (p < end) {
    const labelLength = readLength(bytes, p + 1, end);
    if (labelLength < 0) return false;
    p = varintEnd + labelLength;
    if (!isPlainLabel(bytes, view, varintEnd, p)) return false;
  }
  return true;
}

/**
 * A label message `[name] [value]`, in that order, each at most once and ASCII: what the full
 * decoder decodes without any possible failure. Anything else is left to it.
 */
function isPlainLabel(bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
  let q = start;
  if (q < end && bytes[q] === LABEL_NAME) {
    const length = readLength(bytes, q + 1, end);
    if (length < 0) return false;
    q = varintEnd + length;
    if (q > end || !isAscii(bytes, view, varintEnd, q)) return false;
  }
  if (q < end && bytes[q] === LABEL_VALUE) {
    const length = readLength(bytes, q + 1, end);
    if (length < 0) return false;
    q = varintEnd + length;
    if (q > end || !isAscii(bytes, view, varintEnd, q)) return false;
  }
  return q === end;
}

/** Set by hashRun: whether every byte of the run is ASCII. */
let runIsAscii = false;

/**
 * A 32-bit hash of a byte run, 4 bytes at a time (a per-byte loop would cost as much as the rest);
 * notes in `runIsAscii` whether the run is all ASCII, in the same pass.
 */
export function hashRun(bytes: Uint8Array, view: DataView, start: number, end: number): number {
  // Two lanes, 8 bytes a step: the multiplications of one lane do not wait for the other's.
  let a = end - start;
  let b = 0x27d4eb2f;
  let high = 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const x = view.getInt32(i, true);
    const y = view.getInt32(i + 4, true);
    high |= x | y;
    a = Math.imul(a ^ x, 0x9e3779b1);
    b = Math.imul(b ^ y, 0x85ebca77);
    a ^= a >>> 15;
    b ^= b >>> 13;
  }
  if (i + 4 <= end) {
    const x = view.getInt32(i, true);
    high |= x;
    a = Math.imul(a ^ x, 0x9e3779b1);
    a ^= a >>> 15;
    i += 4;
  }
  for (; i < end; i++) {
    high |= bytes[i];
    a = Math.imul(a ^ bytes[i], 0x01000193);
  }
  runIsAscii = (high & 0x80808080) === 0;
  let hash = a ^ Math.imul(b, 0xc2b2ae3d);
  hash ^= hash >>> 13;
  return Math.imul(hash, 0x85ebca6b) ^ (hash >>> 16);
}

function isAscii(bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
  let high = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) high |= view.getInt32(i, true);
  for (; i < end; i++) high |= bytes[i];
  return (high & 0x80808080) === 0;
}

/**
 * Indexes a decoded 1.0 body without building strings; undefined when it is not in the usual
 * shape (the caller then decodes it in full).
 */
export function scanWriteRequestV1(bytes: Uint8Array): RawWriteRequestV1 | undefined {
  const end = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let bounds = new Int32Array(3 * 512);
  let times = new Float64Array(2 * 512);
  let labelHashes = new Int32Array(512);
  let count = 0;
  let samples = 0;
  let metadataAt: number[] | undefined;
  let pos = 0;
  while (pos < end) {
    const fieldTag = bytes[pos];
    const length = readLength(bytes, pos + 1, end);
    if (length < 0) return undefined;
    const start = varintEnd;
    const fieldEnd = start + length;
    if (fieldEnd > end) return undefined;
    if (fieldTag === METADATA) {
      (metadataAt ??= []).push(start, fieldEnd);
      pos = fieldEnd;
      continue;
    }
    if (fieldTag !== TIMESERIES) return undefined;

    // Labels: a run of label fields at the start of the series. A label with a one-byte length
    // has its `[name] [value]` shape checked on the way, reading its inner lengths as one byte
    // each: exact when the whole run is ASCII, which one pass then tells along with the hash the
    // label-bytes cache is indexed by. Anything else takes the precise check.
    let p = start;
    let shaped = true;
    while (p < fieldEnd && bytes[p] === LABEL) {
      const length = bytes[p + 1];
      if (length < 0x80) {
        const labelEnd = p + 2 + length;
        if (labelEnd > fieldEnd) return undefined;
        let q = p + 2;
        if (q < labelEnd && bytes[q] === LABEL_NAME) q += 2 + bytes[q + 1];
        if (q < labelEnd && bytes[q] === LABEL_VALUE) q += 2 + bytes[q + 1];
        if (q !== labelEnd) shaped = false;
        p = labelEnd;
      } else {
        const labelLength = readLength(bytes, p + 1, fieldEnd);
        if (labelLength < 0) return undefined;
        p = varintEnd + labelLength;
        if (p > fieldEnd) return undefined;
        shaped = false;
      }
    }
    const labelsEnd = p;
    const labelHash = hashRun(bytes, view, start, labelsEnd);
    if (!(runIsAscii && shaped) && !arePlainLabels(bytes, view, start, labelsEnd)) return undefined;
    // Samples: each `[09 <8 bytes>] [10 <varint>]`, both fields optional (zero values are left out).
    let first = NaN;
    let last = NaN;
    while (p < fieldEnd) {
      if (bytes[p] !== SAMPLE) return undefined;
      const sampleLength = readLength(bytes, p + 1, fieldEnd);
      if (sampleLength < 0) return undefined;
      let s = varintEnd;
      const sampleEnd = s + sampleLength;
      if (sampleEnd > fieldEnd) return undefined;
      if (s < sampleEnd && bytes[s] === SAMPLE_VALUE) s += 9;
      let timestamp = 0;
      if (s < sampleEnd && bytes[s] === SAMPLE_TIMESTAMP) {
        // Up to 7 varint bytes (< 2^49 ms, beyond the year 10000); longer ones (negative) go the full way.
        timestamp = readShortVarint(bytes, s + 1, sampleEnd);
        if (timestamp < 0) return undefined;
        s = varintEnd;
      }
      if (s !== sampleEnd) return undefined;
      if (!(timestamp >= first)) first = timestamp; // NaN-safe: the first sample sets both
      if (!(timestamp <= last)) last = timestamp;
      samples++;
      p = sampleEnd;
    }

    if (count * 3 === bounds.length) {
      const grownBounds = new Int32Array(bounds.length * 2);
      grownBounds.set(bounds);
      bounds = grownBounds;
      const grownTimes = new Float64Array(times.length * 2);
      grownTimes.set(times);
      times = grownTimes;
      const grownHashes = new Int32Array(labelHashes.length * 2);
      grownHashes.set(labelHashes);
      labelHashes = grownHashes;
    }
    labelHashes[count] = labelHash;
    bounds[3 * count] = start;
    bounds[3 * count + 1] = labelsEnd;
    bounds[3 * count + 2] = fieldEnd;
    times[2 * count] = first;
    times[2 * count + 1] = last;
    count++;
    pos = fieldEnd;
  }
  const metadata: MetricMetadata[] = [];
  if (metadataAt !== undefined) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const reader = new WireReader(bytes);
    for (let i = 0; i < metadataAt.length; i += 2) {
      const length = metadataAt[i + 1] - metadataAt[i];
      const key = length <= DECODED_METADATA_MAX_ENTRY_BYTES ? text.toString('latin1', metadataAt[i], metadataAt[i + 1]) : undefined;
      let entry = key === undefined ? undefined : decodedMetadata.get(key);
      if (entry === undefined) {
        reader.pos = metadataAt[i];
        try {
          entry = shareMetadata(decodeMetricMetadataV1(reader, metadataAt[i + 1]));
        } catch {
          return undefined; // the full decoder reports it, with its path
        }
        if (key !== undefined) {
          if (decodedMetadata.size >= DECODED_METADATA_MAX || decodedMetadataBytes + length > DECODED_METADATA_MAX_BYTES) {
            decodedMetadata.clear();
            decodedMetadataBytes = 0;
          }
          decodedMetadata.set(key, entry);
          decodedMetadataBytes += length;
        }
      }
      metadata.push(entry);
    }
  }
  return new RawWriteRequestV1(bytes, bounds, times, labelHashes, count, metadata, { samples, histograms: 0, exemplars: 0 });
}
