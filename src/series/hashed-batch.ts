import { canonicalLabels, type CanonicalSeries, type SeriesBatch } from './canonical.js';
import { hashFromHalves } from './series-hash.js';
import { seriesKey } from './series-key.js';
import type { RawWriteRequestV1 } from '../remote-write/decode/raw-v1.js';
import type { MetricMetadata, WriteCounts } from '../remote-write/types.js';

/**
 * A SeriesBatch whose series are known by hash first and built only when asked for. canonicalize
 * emits it for a raw 1.0 request: every valid series (a "candidate") has its hash (as uint32
 * halves) and its label bytes in the request, and those canonicalize had to build anyway are kept.
 * dedup checks the hashes and passes on the `subset` no tier knows; the Kafka sink encodes them
 * from their raw label bytes. Any other consumer just reads `series`, which builds them all,
 * exactly as canonicalize would have.
 */
export class HashedSeriesBatch implements SeriesBatch {
  private all: CanonicalSeries[] | undefined;

  constructor(
    readonly request: RawWriteRequestV1,
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
    /**
     * Per candidate, its first and last timestamp, when they are not simply the request's (a
     * subset that merged the same series seen twice); else `request.times` has them.
     */
    private readonly ranges?: Float64Array,
    /**
     * Per candidate, 1 where canonicalize found the label bytes canonical as they are (sorted, no
     * empty value): an encoder may copy them without checking that again.
     */
    private readonly asSent?: Uint8Array,
  ) {}

  /** Whether candidate `c`'s label bytes are known to be its canonical labels as they are. */
  canonicalAsSent(c: number): boolean {
    return this.asSent !== undefined && this.asSent[c] === 1;
  }

  get series(): CanonicalSeries[] {
    if (this.all === undefined) {
      const every: number[] = [];
      for (let i = 0; i < this.size; i++) every.push(i);
      this.all = this.build(every);
    }
    return this.all;
  }

  /** Smallest sample timestamp of candidate `c` (ms); the receive time when it has no sample. */
  firstTimestamp(c: number): number {
    const t = this.ranges !== undefined ? this.ranges[2 * c] : this.request.times[2 * this.seriesIndex[c]];
    return Number.isNaN(t) ? this.receivedAt : t;
  }

  lastTimestamp(c: number): number {
    const t = this.ranges !== undefined ? this.ranges[2 * c + 1] : this.request.times[2 * this.seriesIndex[c] + 1];
    return Number.isNaN(t) ? this.receivedAt : t;
  }

  /** Where candidate `c`'s label fields (TimeSeries field 1, each `0x0a len Label`) start in `request.bytes`. */
  labelsStart(c: number): number {
    return this.request.bounds[3 * this.seriesIndex[c]];
  }

  labelsEnd(c: number): number {
    return this.request.bounds[3 * this.seriesIndex[c] + 1];
  }

  /** Candidate `c` as a CanonicalSeries (its own object: callers may change its time range). */
  canonical(c: number): CanonicalSeries {
    const built = this.prebuilt[c];
    if (built === undefined) return this.buildOne(c);
    return built.firstTimestamp === this.firstTimestamp(c) && built.lastTimestamp === this.lastTimestamp(c)
      ? { ...built }
      : { ...built, firstTimestamp: this.firstTimestamp(c), lastTimestamp: this.lastTimestamp(c) };
  }

  /**
   * The CanonicalSeries of the given candidates, in request order; the same series twice in the
   * request is one entry with the widest time range (as canonicalize does).
   */
  build(candidates: readonly number[]): CanonicalSeries[] {
    const byHash = new Map<bigint, CanonicalSeries>();
    for (const c of candidates) {
      const series = this.canonical(c);
      const seen = byHash.get(series.hash);
      if (seen === undefined) {
        byHash.set(series.hash, series);
      } else {
        seen.firstTimestamp = Math.min(seen.firstTimestamp, series.firstTimestamp);
        seen.lastTimestamp = Math.max(seen.lastTimestamp, series.lastTimestamp);
      }
    }
    return [...byHash.values()];
  }

  /**
   * A batch of the given candidates (in the order given) and `metadata`, nothing built: the same
   * series twice is one candidate with the widest time range.
   */
  subset(candidates: readonly number[], metadata: MetricMetadata[]): HashedSeriesBatch {
    const n = candidates.length;
    const seriesIndex = new Int32Array(n);
    const hashHi = new Uint32Array(n);
    const hashLo = new Uint32Array(n);
    const prebuilt: Array<CanonicalSeries | undefined> = [];
    const asSent = this.asSent !== undefined ? new Uint8Array(n) : undefined;
    // A batch with merged ranges of its own passes them on; otherwise they are made at the first repeat.
    let ranges: Float64Array | undefined = this.ranges !== undefined ? new Float64Array(2 * n) : undefined;
    // Which candidate of this batch each new slot came from.
    const source = new Int32Array(n);
    // Slot by its hash's low half; a low half shared by different hashes goes to `collided`.
    const byLow = new Map<number, number>();
    let collided: Map<string, number> | undefined;
    let size = 0;
    for (const c of candidates) {
      const hi = this.hashHi[c];
      const lo = this.hashLo[c];
      let slot = byLow.get(lo);
      if (slot !== undefined && hashHi[slot] !== hi) slot = collided?.get(`${hi}:${lo}`);
      if (slot !== undefined) {
        // The same series again: widen the time range of the one kept.
        if (ranges === undefined) {
          ranges = new Float64Array(2 * n);
          for (let k = 0; k < size; k++) {
            ranges[2 * k] = this.firstTimestamp(source[k]);
            ranges[2 * k + 1] = this.lastTimestamp(source[k]);
          }
        }
        ranges[2 * slot] = Math.min(ranges[2 * slot], this.firstTimestamp(c));
        ranges[2 * slot + 1] = Math.max(ranges[2 * slot + 1], this.lastTimestamp(c));
        continue;
      }
      if (byLow.has(lo)) (collided ??= new Map()).set(`${hi}:${lo}`, size);
      else byLow.set(lo, size);
      source[size] = c;
      seriesIndex[size] = this.seriesIndex[c];
      hashHi[size] = hi;
      hashLo[size] = lo;
      prebuilt[size] = this.prebuilt[c];
      if (asSent !== undefined) asSent[size] = this.asSent![c];
      if (ranges !== undefined) {
        ranges[2 * size] = this.firstTimestamp(c);
        ranges[2 * size + 1] = this.lastTimestamp(c);
      }
      size++;
    }
    return new HashedSeriesBatch(this.request, seriesIndex, hashHi, hashLo, size, prebuilt, metadata, this.receivedAt, this.counts, ranges, asSent);
  }

  private buildOne(candidate: number): CanonicalSeries {
    const index = this.seriesIndex[candidate];
    // These bytes were canonicalized and found valid before (label-bytes cache): only rebuild.
    const labels = canonicalLabels(this.request.seriesAt(index).labels);
    return {
      labels,
      metricName: labels.find((l) => l.name === '__name__')?.value ?? '',
      key: seriesKey(labels),
      hash: hashFromHalves(this.hashHi[candidate], this.hashLo[candidate]),
      firstTimestamp: this.firstTimestamp(candidate),
      lastTimestamp: this.lastTimestamp(candidate),
    };
  }
}

export function isHashedSeriesBatch(batch: SeriesBatch): batch is HashedSeriesBatch {
  return batch instanceof HashedSeriesBatch;
}
