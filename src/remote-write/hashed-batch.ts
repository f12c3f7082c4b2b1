import { canonicalLabels, hashFromHalves, seriesKey, type CanonicalSeries, type SeriesBatch } from './canonical.js';
import type { RawWriteRequestV1 } from './raw-request.js';
import type { MetricMetadata, WriteCounts } from './types.js';

/**
 * A SeriesBatch whose series are known by hash first and built only when asked for. canonicalize
 * emits it for a raw 1.0 request: every valid series has its hash (as uint32 halves), and those
 * canonicalize had to build anyway (its label-bytes cache missed) are kept. dedup checks the hashes
 * and builds only the series no tier knows; any other consumer just reads `series`, which builds
 * them all, exactly as canonicalize would have.
 */
export class HashedSeriesBatch implements SeriesBatch {
  private all: CanonicalSeries[] | undefined;

  constructor(
    private readonly request: RawWriteRequestV1,
    /** Per candidate: the request's series index, and its hash halves. */
    readonly seriesIndex: Int32Array,
    readonly hashHi: Uint32Array,
    readonly hashLo: Uint32Array,
    readonly size: number,
    /** Per candidate, the series when canonicalize built it already. */
    private readonly prebuilt: Array<CanonicalSeries | undefined>,
    readonly metadata: MetricMetadata[],
    readonly receivedAt: number,
    readonly counts: WriteCounts,
  ) {}

  get series(): CanonicalSeries[] {
    if (this.all === undefined) {
      const every: number[] = [];
      for (let i = 0; i < this.size; i++) every.push(i);
      this.all = this.build(every);
    }
    return this.all;
  }

  /**
   * The CanonicalSeries of the given candidates, in request order; the same series twice in the
   * request is one entry with the widest time range (as canonicalize does).
   */
  build(candidates: readonly number[]): CanonicalSeries[] {
    const byHash = new Map<bigint, CanonicalSeries>();
    for (const c of candidates) {
      const series = this.prebuilt[c] ?? this.buildOne(c);
      const seen = byHash.get(series.hash);
      if (seen === undefined) {
        byHash.set(series.hash, series === this.prebuilt[c] ? { ...series } : series);
      } else {
        seen.firstTimestamp = Math.min(seen.firstTimestamp, series.firstTimestamp);
        seen.lastTimestamp = Math.max(seen.lastTimestamp, series.lastTimestamp);
      }
    }
    return [...byHash.values()];
  }

  private buildOne(candidate: number): CanonicalSeries {
    const index = this.seriesIndex[candidate];
    // These bytes were canonicalized and found valid before (label-bytes cache): only rebuild.
    const labels = canonicalLabels(this.request.seriesAt(index).labels);
    const first = this.request.times[2 * index];
    const last = this.request.times[2 * index + 1];
    return {
      labels,
      metricName: labels.find((l) => l.name === '__name__')?.value ?? '',
      key: seriesKey(labels),
      hash: hashFromHalves(this.hashHi[candidate], this.hashLo[candidate]),
      firstTimestamp: Number.isNaN(first) ? this.receivedAt : first,
      lastTimestamp: Number.isNaN(last) ? this.receivedAt : last,
    };
  }
}

export function isHashedSeriesBatch(batch: SeriesBatch): batch is HashedSeriesBatch {
  return batch instanceof HashedSeriesBatch;
}
