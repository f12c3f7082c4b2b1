import type { CanonicalSeries } from '../series/canonical.js';
import { labelSetMatches, type Matcher } from './matcher.js';
import type { LabelQuery, LabelSet, SeriesQuery, TimeRange } from './series-index.js';
import { canonicalSeries, compareBytes } from './fixtures.test-support.js';

/**
 * The straightforward in-memory evaluation the SQL index is checked against (tests only): every
 * query scans every series. Same semantics, no cleverness.
 */
export class ReferenceIndex {
  private readonly byHash = new Map<bigint, { labels: LabelSet; key: string; first: number; last: number }>();

  write(series: readonly CanonicalSeries[]): void {
    for (const s of series) {
      const stored = this.byHash.get(s.hash);
      if (stored) {
        stored.first = Math.min(stored.first, s.firstTimestamp);
        stored.last = Math.max(stored.last, s.lastTimestamp);
      } else {
        const labels = Object.fromEntries(s.labels.map((l) => [l.name, l.value]));
        this.byHash.set(s.hash, { labels, key: s.key, first: s.firstTimestamp, last: s.lastTimestamp });
      }
    }
  }

  series(matcherSets: readonly Matcher[][], { start, end, limit }: SeriesQuery = {}): LabelSet[] {
    const found = this.matching(matcherSets, { start, end }).sort((a, b) => compareBytes(a.key, b.key));
    return truncate(found.map((s) => s.labels), limit);
  }

  labelNames({ matcherSets = [], start, end, limit }: LabelQuery = {}): string[] {
    const names = new Set(this.matching(matcherSets, { start, end }).flatMap((s) => Object.keys(s.labels)));
    return truncate([...names].sort(compareBytes), limit);
  }

  labelValues(name: string, { matcherSets = [], start, end, limit }: LabelQuery = {}): string[] {
    const values = new Set(this.matching(matcherSets, { start, end }).flatMap((s) => (name in s.labels ? [s.labels[name]] : [])));
    return truncate([...values].sort(compareBytes), limit);
  }

  private matching(matcherSets: readonly Matcher[][], { start, end }: TimeRange) {
    return [...this.byHash.values()].filter(
      (s) =>
        (end === undefined || s.first <= end) &&
        (start === undefined || s.last >= start) &&
        (matcherSets.length === 0 || matcherSets.some((matchers) => labelSetMatches(matchers, s.labels))),
    );
  }
}

function truncate<T>(items: T[], limit: number | undefined): T[] {
  return limit ? items.slice(0, limit) : items;
}

/** A small deterministic PRNG (mulberry32), so generated data is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const METRICS = ['up', 'http_requests_total', 'node_cpu_seconds_total', 'my.metric', 'process_start_time_seconds'];
const JOBS = ['api', 'db', 'web', 'batch'];
const MODES = ['idle', 'user', 'system', 'iowait'];
/** Values that stress escaping and byte ordering: newline, non-ASCII, astral, dots, case. */
const PATHS = ['/', '/api/v1', '/a\nb', 'ünï', '😀', '\uffff', 'x.y', 'CAPS'];

/** Series with a mix of common, optional, UTF-8-named and high-cardinality labels. */
export function generateSeries(count: number, random: () => number): CanonicalSeries[] {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const maybe = (probability: number, value: () => string) => (random() < probability ? value() : '');
  return Array.from({ length: count }, (_, i) => {
    const metric = pick(METRICS);
    const first = Math.floor(random() * 900);
    return canonicalSeries(
      {
        __name__: metric,
        i: String(i),
        job: maybe(0.8, () => pick(JOBS)),
        instance: maybe(0.9, () => `host-${Math.floor(random() * 25)}`),
        mode: metric === 'node_cpu_seconds_total' ? pick(MODES) : '',
        path: maybe(0.3, () => pick(PATHS)),
        'a.b': maybe(0.1, () => pick(['c', 'd'])),
        env: maybe(0.5, () => pick(['prod', 'staging'])),
        // Sorts before `__name__` ('Z' < '_'): the label set must still put `__name__` first.
        Zone: maybe(0.1, () => 'eu'),
      },
      { first, last: first + Math.floor(random() * 300) },
    );
  });
}

/** The same series seen again at other times, to exercise the min/max merge. */
export function seenAgain(series: readonly CanonicalSeries[], random: () => number): CanonicalSeries[] {
  return series.map((s) => {
    const first = Math.floor(random() * 1200);
    return { ...s, firstTimestamp: first, lastTimestamp: first + Math.floor(random() * 100) };
  });
}
