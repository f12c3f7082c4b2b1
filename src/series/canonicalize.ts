import type { InvalidInputDetail } from '../errors.js';
import { RawWriteRequestV1 } from '../remote-write/decode/raw-v1.js';
import { countWriteRequest, type MetricMetadata, type TimeSeries, type WriteRequest } from '../remote-write/types.js';
import { canonicalLabels, type CanonicalSeries, type SeriesBatch } from './canonical.js';
import { hashHigh, hashLow, seriesHash } from './series-hash.js';
import { seriesKey } from './series-key.js';
import { metadataIdentity } from './metadata-identity.js';
import { HashedSeriesBatch } from './hashed-batch.js';
import { LabelBytesCache } from './label-bytes-cache.js';
import { RawCanonicalizer } from './raw-canonical.js';
import { validateLabels, type SeriesRules } from './validation.js';

export interface CanonicalizedRequest {
  batch: SeriesBatch;
  /** One entry per invalid series, which the batch leaves out. */
  invalid: InvalidInputDetail[];
}

/**
 * From a WriteRequest to a SeriesBatch: every series canonicalized (labels sorted, empty values
 * dropped), validated under one set of rules, keyed and hashed. Invalid series are reported, not
 * thrown, so the rest flows.
 *
 * With a label-bytes cache, a raw 1.0 request (the codec's fast path) gives a HashedSeriesBatch,
 * whose series are built only when a consumer asks for them. The cache remembers series that
 * passed these rules, so it belongs to this canonicalizer alone.
 */
export class SeriesCanonicalizer {
  /** A frozen copy: what the cache holds stays valid only while the rules stay the same. */
  readonly rules: Readonly<SeriesRules>;
  private readonly labelCache: LabelBytesCache | undefined;
  private readonly raw: RawCanonicalizer;

  /** @param labelCacheBytes memory for the label-bytes cache; 0 (the default) turns it off. */
  constructor(rules: SeriesRules, { labelCacheBytes = 0 }: { labelCacheBytes?: number } = {}) {
    this.rules = Object.freeze({ ...rules });
    this.labelCache = labelCacheBytes > 0 ? new LabelBytesCache(labelCacheBytes) : undefined;
    this.raw = new RawCanonicalizer(this.rules);
  }

  /** `now` (ms) is the receive time: the batch's, and the time range of a series without samples. */
  canonicalize(req: WriteRequest, now: number): CanonicalizedRequest {
    if (this.labelCache !== undefined && req instanceof RawWriteRequestV1) return this.canonicalizeRaw(req, now, this.labelCache);
    const invalid: InvalidInputDetail[] = [];
    const byHash = new Map<bigint, CanonicalSeries>();
    req.timeseries.forEach((ts, index) => {
      const series = this.canonicalSeries(ts, index, now, invalid);
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
  private canonicalSeries(ts: TimeSeries, index: number, now: number, invalid: InvalidInputDetail[]): CanonicalSeries | undefined {
    const labels = canonicalLabels(ts.labels);
    const reason = validateLabels(labels, this.rules);
    if (reason) {
      invalid.push({ where: `timeseries[${index}] ${seriesKey(labels)}`, reason });
      return undefined;
    }
    const [first, last] = timeRange(ts, now);
    const metricName = labels.find((l) => l.name === '__name__')?.value ?? '';
    return { labels, metricName, key: seriesKey(labels), hash: seriesHash(labels), firstTimestamp: first, lastTimestamp: last };
  }

  /**
   * The fast path: a series whose raw label bytes the cache knows is valid and has a known hash, so
   * it costs a lookup. A new series whose labels are canonical and valid as sent (what Prometheus
   * sends) is hashed from its bytes, nothing built; only the others are decoded, canonicalized and
   * validated. Valid ones are remembered either way.
   */
  private canonicalizeRaw(req: RawWriteRequestV1, now: number, cache: LabelBytesCache): CanonicalizedRequest {
    const raw = this.raw;
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
        const series = this.canonicalSeries(req.seriesAt(i), i, now, invalid);
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

/** The request's metadata without nameless entries, each entry once. */
function requestMetadata(req: WriteRequest): MetricMetadata[] {
  return dedupeMetadata(req.metadata.filter((m) => m.metricFamilyName !== ''));
}

function dedupeMetadata(list: MetricMetadata[]): MetricMetadata[] {
  if (list.length < 2) return list;
  const seen = new Map<string, MetricMetadata>();
  for (const m of list) seen.set(metadataIdentity(m), m);
  return [...seen.values()];
}
