import { map } from 'rxjs';
import { z } from 'zod';
import type { InvalidInputDetail } from '../../errors.js';
import { InvalidInputError } from '../../errors.js';
import { canonicalLabels, hashHigh, hashLow, isLegacyLabelName, isLegacyMetricName, metadataIdentity, seriesHash, seriesKey, type CanonicalSeries, type SeriesBatch } from '../../series/canonical.js';
import { HashedSeriesBatch } from '../../series/hashed-batch.js';
import { LabelBytesCache } from '../../series/label-bytes-cache.js';
import { RawCanonicalizer } from '../../series/raw-canonical.js';
import { RawWriteRequestV1 } from '../../remote-write/decode/raw-v1.js';
import { countWriteRequest, type Label, type MetricMetadata, type TimeSeries, type WriteRequest } from '../../remote-write/types.js';
import { defineProcessor } from '../../topology/declaration.js';
import type { Message } from '../../runtime/message.js';

export const canonicalizeConfig = z.strictObject({
  name_validation: z.enum(['legacy', 'utf8']).default('legacy').describe('legacy: metric names match [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]* (Prometheus 2). utf8: any non-empty UTF-8 name (Prometheus 3).'),
  max_labels_per_series: z.number().int().min(1).max(10_000).default(64).describe('A series with more labels (after dropping empty values) is invalid.'),
  max_label_name_length: z.number().int().min(1).default(1024).describe('Longest label name, in UTF-16 code units.'),
  max_label_value_length: z.number().int().min(1).default(4096).describe('Longest label value, in UTF-16 code units.'),
  on_invalid: z.enum(['reject', 'drop']).default('reject').describe('reject: valid series are still delivered, and the request is answered 400 naming each invalid series and why (as Prometheus itself answers). drop: invalid series are counted in metrics and dropped; the request succeeds.'),
  max_reported_errors: z.number().int().min(1).default(10).describe('How many invalid series a 400 response lists by name.'),
  label_cache_mib: z.number().int().min(0).max(2048).default(64).describe('Memory for remembering the raw label bytes of series already found valid, with their hash, so a known series is not decoded, sorted, validated and hashed again (MiB, at most 2048: the cache addresses its bytes with 32-bit offsets; 0 turns it off). About 200 bytes per series; when full, the least recently seen half is forgotten.'),
});
export type CanonicalizeConfig = z.output<typeof canonicalizeConfig>;

export const canonicalize = defineProcessor({
  kind: 'transform',
  type: 'canonicalize',
  summary: 'Sorts and validates labels, drops empty values, and gives each series its canonical key and 64-bit hash.',
  stability: 'stable',
  examples: [
    {
      title: 'Prometheus 2 name rules; a request with invalid series is answered 400 naming them',
      yaml: `
        - type: canonicalize`,
    },
    {
      title: 'Prometheus 3 UTF-8 names; invalid series are counted and dropped, the request succeeds',
      yaml: `
        - type: canonicalize
          name_validation: utf8
          on_invalid: drop
          max_labels_per_series: 48`,
    },
  ],
  accepts: 'WriteRequest',
  emits: 'SeriesBatch',
  config: canonicalizeConfig,
  create(config) {
    const cache = config.label_cache_mib > 0 ? new LabelBytesCache(config.label_cache_mib * 2 ** 20) : undefined;
    return map((msg: Message<WriteRequest>) => {
      const { batch, invalid } = canonicalizeRequest(msg.payload, config, Date.now(), cache);
      if (invalid.length > 0 && config.on_invalid === 'reject') {
        msg.delivery.rejected.push(...invalid.slice(0, config.max_reported_errors - msg.delivery.rejected.length));
        if (batch.series.length === 0 && batch.metadata.length === 0) {
          throw new InvalidInputError(`${invalid.length} invalid series`, invalid.slice(0, config.max_reported_errors));
        }
      }
      return msg.with(batch);
    });
  },
});

/**
 * Canonicalize every series of a request; invalid ones are reported, not thrown, so the rest flows.
 * A raw 1.0 request (the codec's fast path) with a label-bytes cache gives a HashedSeriesBatch,
 * whose series are built only when a consumer asks for them. A cache belongs to one `config`: it
 * remembers series that passed that configuration's validation.
 */
export function canonicalizeRequest(req: WriteRequest, config: CanonicalizeConfig, now: number, cache?: LabelBytesCache): { batch: SeriesBatch; invalid: InvalidInputDetail[] } {
  if (cache !== undefined && req instanceof RawWriteRequestV1) return canonicalizeRaw(req, config, now, cache);
  const invalid: InvalidInputDetail[] = [];
  const byHash = new Map<bigint, CanonicalSeries>();
  req.timeseries.forEach((ts, index) => {
    const series = canonicalSeries(ts, index, config, now, invalid);
    if (series === undefined) return;
    const seen = byHash.get(series.hash);
    if (seen) {
      // The same series twice in one request: one entry, the widest time range.
      seen.firstTimestamp = Math.min(seen.firstTimestamp, series.firstTimestamp);
      seen.lastTimestamp = Math.max(seen.lastTimestamp, series.lastTimestamp);
      return;
    }
    byHash.set(series.hash, series);
  });
  return {
    batch: { series: [...byHash.values()], metadata: requestMetadata(req), receivedAt: now, counts: countWriteRequest(req) },
    invalid,
  };
}

/** The series canonicalized, or undefined with the reason pushed onto `invalid`. */
function canonicalSeries(ts: TimeSeries, index: number, config: CanonicalizeConfig, now: number, invalid: InvalidInputDetail[]): CanonicalSeries | undefined {
  const labels = canonicalLabels(ts.labels);
  const reason = validateLabels(labels, config);
  if (reason) {
    invalid.push({ where: `timeseries[${index}] ${seriesKey(labels)}`, reason });
    return undefined;
  }
  const [first, last] = timeRange(ts, now);
  const metricName = labels.find((l) => l.name === '__name__')?.value ?? '';
  return { labels, metricName, key: seriesKey(labels), hash: seriesHash(labels), firstTimestamp: first, lastTimestamp: last };
}

/** One raw canonicalizer per configuration (its rules come from it), reused request after request. */
const rawCanonicalizers = new WeakMap<CanonicalizeConfig, RawCanonicalizer>();

function rawCanonicalizer(config: CanonicalizeConfig): RawCanonicalizer {
  let raw = rawCanonicalizers.get(config);
  if (raw === undefined) {
    raw = new RawCanonicalizer({
      legacyNames: config.name_validation === 'legacy',
      maxLabels: config.max_labels_per_series,
      maxNameLength: config.max_label_name_length,
      maxValueLength: config.max_label_value_length,
    });
    rawCanonicalizers.set(config, raw);
  }
  return raw;
}

/**
 * The fast path: a series whose raw label bytes the cache knows is valid and has a known hash, so
 * it costs a lookup. A new series whose labels are canonical and valid as sent (what Prometheus
 * sends) is hashed from its bytes, nothing built; only the others are decoded, canonicalized and
 * validated. Valid ones are remembered either way.
 */
function canonicalizeRaw(req: RawWriteRequestV1, config: CanonicalizeConfig, now: number, cache: LabelBytesCache): { batch: SeriesBatch; invalid: InvalidInputDetail[] } {
  const raw = rawCanonicalizer(config);
  const invalid: InvalidInputDetail[] = [];
  const count = req.seriesCount;
  const seriesIndex = new Int32Array(count);
  const hashHi = new Uint32Array(count);
  const hashLo = new Uint32Array(count);
  const prebuilt: Array<CanonicalSeries | undefined> = [];
  const asSent = new Uint8Array(count);
  const { bytes, bounds, labelHashes } = req;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let size = 0;
  for (let i = 0; i < count; i++) {
    const start = bounds[3 * i];
    const end = bounds[3 * i + 1];
    if (cache.lookup(labelHashes[i], bytes, view, start, end)) {
      hashHi[size] = cache.hi;
      hashLo[size] = cache.lo;
    } else if (raw.hash(bytes, view, start, end)) {
      hashHi[size] = raw.hi;
      hashLo[size] = raw.lo;
      asSent[size] = 1;
      cache.store(labelHashes[i], bytes, view, start, end, raw.hi, raw.lo);
    } else {
      const series = canonicalSeries(req.seriesAt(i), i, config, now, invalid);
      if (series === undefined) continue;
      hashHi[size] = hashHigh(series.hash);
      hashLo[size] = hashLow(series.hash);
      cache.store(labelHashes[i], bytes, view, start, end, hashHi[size], hashLo[size]);
      prebuilt[size] = series;
    }
    seriesIndex[size] = i;
    size++;
  }
  return {
    batch: new HashedSeriesBatch(req, seriesIndex, hashHi, hashLo, size, prebuilt, requestMetadata(req), now, countWriteRequest(req), undefined, asSent),
    invalid,
  };
}

function requestMetadata(req: WriteRequest): MetricMetadata[] {
  return dedupeMetadata(req.metadata.filter((m) => m.metricFamilyName !== ''));
}

/**
 * Names that passed validation: legacy label names, legacy metric names (kept apart: a metric name
 * is a label value) and UTF-8 names. They repeat across series and requests,
 * so each is checked by regex once; bounded so a flood of distinct names cannot grow it forever.
 */
const validNames = { legacy: new Set<string>(), metric: new Set<string>(), utf8: new Set<string>() };
const VALID_NAMES_MAX = 100_000;

function rememberValid(mode: keyof typeof validNames, key: string): void {
  const set = validNames[mode];
  if (set.size >= VALID_NAMES_MAX) set.clear();
  set.add(key);
}

function validateLabels(sorted: Label[], config: CanonicalizeConfig): string | undefined {
  if (sorted.length === 0) return 'no labels (every label value is empty)';
  if (sorted.length > config.max_labels_per_series) return `${sorted.length} labels, more than the limit of ${config.max_labels_per_series}`;
  for (let i = 0; i < sorted.length; i++) {
    const { name, value } = sorted[i];
    if (name === '') return 'empty label name';
    if (i > 0 && sorted[i - 1].name === name) return `duplicate label name "${name}"`;
    if (name.length > config.max_label_name_length) return `label name "${name.slice(0, 64)}…" is longer than ${config.max_label_name_length}`;
    if (value.length > config.max_label_value_length) return `value of label "${name}" is longer than ${config.max_label_value_length}`;
    if (config.name_validation === 'legacy') {
      if (name === '__name__') {
        if (validNames.metric.has(value)) continue;
        if (!isLegacyMetricName(value)) return `invalid metric name "${value}"`;
        rememberValid('metric', value);
      } else {
        if (validNames.legacy.has(name)) continue;
        if (!isLegacyLabelName(name)) return `invalid label name "${name}"`;
        rememberValid('legacy', name);
      }
    } else {
      if (!validNames.utf8.has(name)) {
        if (!isWellFormedUtf16(name)) return `label "${name}" is not valid UTF-8`;
        rememberValid('utf8', name);
      }
      if (!isWellFormedUtf16(value)) return `label "${name}" is not valid UTF-8`;
    }
  }
  return undefined;
}

/** Lone surrogates are what invalid UTF-8 decodes to (as U+FFFD) or what a 2.0 symbol could hold. */
function isWellFormedUtf16(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function timeRange(ts: TimeSeries, now: number): [number, number] {
  let first = Infinity;
  let last = -Infinity;
  for (const s of ts.samples) {
    if (s.timestamp < first) first = s.timestamp;
    if (s.timestamp > last) last = s.timestamp;
  }
  for (const h of ts.histograms) {
    if (h.timestamp < first) first = h.timestamp;
    if (h.timestamp > last) last = h.timestamp;
  }
  return first === Infinity ? [now, now] : [first, last];
}

function dedupeMetadata(list: MetricMetadata[]): MetricMetadata[] {
  if (list.length < 2) return list;
  const seen = new Map<string, MetricMetadata>();
  for (const m of list) seen.set(metadataIdentity(m), m);
  return [...seen.values()];
}
