import xxhash from 'xxhash-wasm';
import type { Label, MetricMetadata, WriteCounts } from '../remote-write/types.js';
import { isLegacyLabelName, isLegacyMetricName } from './validation.js';

/**
 * A series after canonicalization: labels sorted by name, validated, empty values dropped.
 * `hash` is the series' identity everywhere downstream (Kafka key, index primary key);
 * see docs/series-hash.md for its definition.
 */
export interface CanonicalSeries {
  labels: Label[];
  /** Value of `__name__`, or '' when the series has none. */
  metricName: string;
  /** `name{a="b",…}` with Prometheus escaping. */
  key: string;
  /** Unsigned 64-bit xxHash64 over the sorted label pairs. */
  hash: bigint;
  /** Smallest and largest sample/histogram timestamp in the request (ms); receive time if none. */
  firstTimestamp: number;
  lastTimestamp: number;
}

/** What flows from canonicalize onwards: a batch of series, not single samples. */
export interface SeriesBatch {
  series: CanonicalSeries[];
  metadata: MetricMetadata[];
  /** Wall-clock receive time (ms). */
  receivedAt: number;
  /** What the originating request(s) carried, for response headers and metrics. */
  counts: WriteCounts;
}

// ---- identity: the canonical key and the 64-bit hash -------------------------------------------

/**
 * The labels in canonical order, empty values dropped. Senders (Prometheus among them) send
 * labels sorted and without empty values: then there is nothing to copy or sort.
 */
export function canonicalLabels(labels: Label[]): Label[] {
  return isSortedWithoutEmpty(labels) ? labels : labels.filter((l) => l.value !== '').sort(byName);
}

function isSortedWithoutEmpty(labels: Label[]): boolean {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i].value === '') return false;
    if (i > 0 && labels[i - 1].name >= labels[i].name) return false;
  }
  return true;
}

function byName(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

// A 64-bit hash as two uint32 halves, for tables that must not allocate a BigInt per lookup.
const halves64 = new BigUint64Array(1);
const halves32 = new Uint32Array(halves64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function hashHigh(hash: bigint): number {
  halves64[0] = hash;
  return halves32[LITTLE_ENDIAN ? 1 : 0];
}

export function hashLow(hash: bigint): number {
  halves64[0] = hash;
  return halves32[LITTLE_ENDIAN ? 0 : 1];
}

export function hashFromHalves(hi: number, lo: number): bigint {
  halves32[LITTLE_ENDIAN ? 1 : 0] = hi;
  halves32[LITTLE_ENDIAN ? 0 : 1] = lo;
  return halves64[0];
}


const { h64Raw } = await xxhash();
const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);
const SEPARATOR = 0xff;

/**
 * The series hash: xxHash64 (seed 0) over `name 0xFF value 0xFF` for every label in sorted order,
 * exactly as Prometheus' `labels.Labels.Hash()` computes it, so weir's ids match Prometheus' own.
 * 0xFF never occurs in UTF-8, so the encoding is unambiguous.
 */
export function seriesHash(sortedLabels: readonly Label[]): bigint {
  let length = 0;
  for (const l of sortedLabels) length += (l.name.length + l.value.length) * 3 + 2;
  if (length > scratch.length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
  let at = 0;
  for (const l of sortedLabels) {
    at = writeUtf8(l.name, at);
    scratch[at++] = SEPARATOR;
    at = writeUtf8(l.value, at);
    scratch[at++] = SEPARATOR;
  }
  return h64Raw(scratch.subarray(0, at), 0n);
}

/**
 * `seriesHash` of labels already laid out as `name 0xFF value 0xFF` per label, in sorted order
 * (`pairs[0..length)`): for callers that copy them straight from raw bytes (raw-canonical.ts).
 */
export function seriesHashOfPairs(pairs: Uint8Array, length: number): bigint {
  return h64Raw(pairs.subarray(0, length), 0n);
}

/** Label text is nearly always ASCII: copy it byte by byte, and let TextEncoder do the rest. */
function writeUtf8(text: string, at: number): number {
  const start = at;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return start + encoder.encodeInto(text, scratch.subarray(start)).written;
    scratch[at++] = c;
  }
  return at;
}

/** A double-quoted string with Prometheus' escaping (backslash, double quote, line feed). */
export function quoteLabelValue(value: string): string {
  // Almost no value needs escaping: test once instead of running three replaces on every value.
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
const NEEDS_ESCAPE = /[\\"\n]/;

/**
 * `name{a="b",c="d"}` as PromQL writes a selector; names that are not legacy identifiers are
 * quoted, as Prometheus 3 does for UTF-8 names (`{"my.metric","a.b"="c"}`).
 */
export function seriesKey(sortedLabels: readonly Label[]): string {
  let metric = '';
  const parts: string[] = [];
  for (const l of sortedLabels) {
    if (l.name === '__name__') {
      metric = l.value;
      continue;
    }
    const name = isLegacyLabelName(l.name) ? l.name : quoteLabelValue(l.name);
    parts.push(`${name}=${quoteLabelValue(l.value)}`);
  }
  if (metric !== '' && !isLegacyMetricName(metric)) return `{${[quoteLabelValue(metric), ...parts].join(',')}}`;
  return `${metric}{${parts.join(',')}}`;
}

/** A metadata entry's identity within a batch: family, type, help and unit. */
export function metadataIdentity(m: MetricMetadata): string {
  return sharedMetadata.get(m)?.identity ?? `${m.metricFamilyName}\u0000${m.type}\u0000${m.help}\u0000${m.unit}`;
}

/**
 * Identity of a metadata entry, for dedup: xxHash64 with a seed of its own, so metadata ids live
 * apart from series ids in the same dedup tiers.
 */
export function metadataHash(m: MetricMetadata): bigint {
  return sharedMetadata.get(m)?.hash ?? h64Raw(encoder.encode(`${m.metricFamilyName}\xff${m.type}\xff${m.help}\xff${m.unit}`), METADATA_SEED);
}

/**
 * Metadata entries the codec decodes once and hands out again for the same bytes (senders repeat
 * the same entries every minute): their identity and hash are worked out once, here.
 */
const sharedMetadata = new WeakMap<MetricMetadata, { identity: string; hash: bigint }>();

export function shareMetadata(m: MetricMetadata): MetricMetadata {
  sharedMetadata.set(m, { identity: metadataIdentity(m), hash: metadataHash(m) });
  return m;
}
const METADATA_SEED = 0x6d657461n; // "meta"
