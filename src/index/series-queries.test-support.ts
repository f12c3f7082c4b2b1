import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { canonicalSeries, seriesBatch } from './fixtures.test-support.js';
import { createMatcher, type Matcher, type MatchType } from './matcher.js';
import { generateSeries, ReferenceIndex, seededRandom, seenAgain } from './reference-index.test-support.js';
import { parseSeriesSelector } from './selector.js';
import type { SeriesIndex, TimeRange } from './series-index.js';
import { createSqlSeriesIndex } from './sql-series-index.js';
import type { SqlStore } from './sql-store.js';

/**
 * The query tests every `SqlStore` must pass (SQLite in `series-queries.test.ts`, MySQL in
 * `test/mysql/series-index.test.ts`).
 *
 * Differential check: the SQL index must answer exactly like a full scan in JS, for hand-picked
 * selectors and for generated matcher sets, with and without time ranges and limits.
 */

/** A new, empty store; closing it discards the data. */
export type OpenStore = () => Promise<SqlStore>;

const SELECTORS = [
  'up',
  'http_requests_total{job="api"}',
  '{__name__=~".+"}',
  '{job!="", instance!~"host-1.*"}',
  '{__name__=~"up|my\\\\.metric"}',
  '{"my.metric"}',
  '{"a.b"="c"}',
  '{job=~"api|db", env=""}',
  '{job=~"a.*|", __name__!="up", instance=~"host-[0-9]"}',
  '{i=~"1.*"}',
  '{i!~"1.*", job="db"}',
  '{i=~"[0-9]+", job!~"api|db|web|batch"}',
  '{path=~".*\\\\n.*"}',
  '{path=~"(?i)caps"}',
  '{path=~"\\\\p{So}|\\\\x{FFFF}"}',
  '{path!~".+", job="web"}',
  '{__name__="node_cpu_seconds_total", mode!~"idle|user"}',
  '{Zone="eu"}',
  '{job="nope"}',
  '{job=~"nope.*"}',
  '{instance=~".+", instance!~".+"}',
  '{env!="prod", __name__=~"h.*"}',
  '{__name__=~"up", __name__!~"u.*"}',
  '{missing_label!="", job="api"}',
  '{missing_label="", missing_label!="x", job="api"}',
];

const RANGES: TimeRange[] = [{}, { start: 500 }, { end: 300 }, { start: 400, end: 450 }, { start: 5_000 }];

export function describeSeriesQueries(openStore: OpenStore): void {
  let index: SeriesIndex;
  const reference = new ReferenceIndex();

  beforeAll(async () => {
    index = await createSqlSeriesIndex(await openStore());
    const random = seededRandom(20240611);
    const series = generateSeries(400, random);
    for (let i = 0; i < series.length; i += 100) {
      const batch = series.slice(i, i + 100);
      await index.writeBatch(seriesBatch(batch));
      reference.write(batch);
    }
    const again = seenAgain(series.filter((_, i) => i % 3 === 0), random);
    await index.writeBatch(seriesBatch(again));
    reference.write(again);
  });
  afterAll(async () => {
    await index.close();
  });


  describe('series index against a full scan', () => {
    it.each(SELECTORS)('series(%s)', async (selector) => {
      const matchers = [parseSeriesSelector(selector)];
      for (const range of RANGES) {
        expect(await index.series(matchers, range)).toEqual(reference.series(matchers, range));
      }
      expect(await index.series(matchers, { limit: 3 })).toEqual(reference.series(matchers, { limit: 3 }));
    });

    it.each(SELECTORS)('labelNames and labelValues with match[] = %s', async (selector) => {
      const matcherSets = [parseSeriesSelector(selector)];
      for (const range of RANGES) {
        const query = { matcherSets, ...range };
        expect(await index.labelNames(query)).toEqual(reference.labelNames(query));
        for (const name of ['__name__', 'job', 'path', 'a.b', 'i']) {
          expect(await index.labelValues(name, query)).toEqual(reference.labelValues(name, query));
        }
      }
    });

    it('answers label queries without match[], exactly per time range', async () => {
      for (const range of [...RANGES, { start: 0, end: 0 }, { start: 1_150, end: 1_160 }]) {
        expect(await index.labelNames(range)).toEqual(reference.labelNames(range));
        for (const name of ['__name__', 'job', 'instance', 'path', 'Zone', 'nope']) {
          expect(await index.labelValues(name, range)).toEqual(reference.labelValues(name, range));
        }
      }
      expect(await index.labelValues('instance', { limit: 4 })).toEqual(['host-0', 'host-1', 'host-10', 'host-11']);
      expect(await index.labelNames({ limit: 2 })).toEqual(['Zone', '__name__']);
    });

    it('ORs match[] sets and returns each series once', async () => {
      const matcherSets = [parseSeriesSelector('up'), parseSeriesSelector('{job="api"}'), parseSeriesSelector('up{job="api"}')];
      const expected = reference.series(matcherSets);
      expect(expected.length).toBeGreaterThan(0);
      expect(await index.series(matcherSets)).toEqual(expected);
      expect(await index.labelValues('job', { matcherSets })).toEqual(reference.labelValues('job', { matcherSets }));
    });

    it('orders by series key in byte order and puts __name__ first in each label set', async () => {
      const rows = await index.series([parseSeriesSelector('{Zone="eu"}')]);
      expect(rows.length).toBeGreaterThan(1);
      for (const row of rows) expect(Object.keys(row)[0]).toBe('__name__');
      expect(await index.labelValues('path')).toEqual(['/', '/a\nb', '/api/v1', 'CAPS', 'x.y', 'ünï', '\uffff', '😀']);
    });

    it('agrees on generated matcher sets, time ranges and limits', async () => {
      const name = fc.constantFrom('__name__', 'job', 'instance', 'mode', 'path', 'a.b', 'env', 'i', 'missing');
      const type = fc.constantFrom<MatchType>('=', '!=', '=~', '!~');
      const value = fc.constantFrom('', 'api', 'up', 'host-1', 'host-1.*', '.*', '.+', 'a.*|', 'idle|user', '(?i)API', 'x.y', '😀', '1.*', '[0-9]+', 'prod');
      const matcher = fc.tuple(type, name, value).map(([t, n, v]) => createMatcher(t, n, v));
      const matcherSets = fc.array(fc.array(matcher, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 });
      const time = fc.option(fc.integer({ min: 0, max: 1_300 }), { nil: undefined });
      const limit = fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined });

      await fc.assert(
        fc.asyncProperty(matcherSets, time, time, limit, async (sets, a, b, limit) => {
          const [start, end] = a !== undefined && b !== undefined && b < a ? [b, a] : [a, b];
          const query = { start, end, limit };
          if (!sets.every((set) => set.some((m) => !m.matches('')))) {
            await expect(index.series(sets, query)).rejects.toThrow(InvalidInputError);
            return;
          }
          expect(await index.series(sets, query)).toEqual(reference.series(sets, query));
          expect(await index.labelNames({ matcherSets: sets, ...query })).toEqual(reference.labelNames({ matcherSets: sets, ...query }));
          expect(await index.labelValues('instance', { matcherSets: sets, ...query })).toEqual(
            reference.labelValues('instance', { matcherSets: sets, ...query }),
          );
        }),
        { numRuns: 300, seed: 7 },
      );
    });
  });

  describe('series index: label time bounds', () => {
    it('leaves out a label whose series were all seen before and after the range, not in it', async () => {
      const gapped = await createSqlSeriesIndex(await openStore());
      await gapped.writeBatch(
        seriesBatch([
          canonicalSeries({ __name__: 'm', pod: 'early', gap: 'x' }, { first: 0, last: 10 }),
          canonicalSeries({ __name__: 'm', pod: 'late', gap: 'x' }, { first: 100, last: 110 }),
          canonicalSeries({ __name__: 'm', pod: 'during' }, { first: 40, last: 70 }),
        ]),
      );
      const during = { start: 50, end: 60 };
      expect(await gapped.labelNames(during)).toEqual(['__name__', 'pod']);
      expect(await gapped.labelValues('pod', during)).toEqual(['during']);
      expect(await gapped.labelValues('gap', during)).toEqual([]);
      expect(await gapped.labelValues('gap', { start: 105 })).toEqual(['x']);
      expect(await gapped.series([parseSeriesSelector('{gap="x"}')], during)).toEqual([]);
      await gapped.close();
    });
  });

  describe('series index: a pair gaining series over many batches', () => {
    it('reads every chunk of a pair and answers like a full scan', async () => {
      const chunked = await createSqlSeriesIndex(await openStore());
      const expected = new ReferenceIndex();
      // 40 batches: `job="shared"` gets one chunk per batch, `pod` values one series each, and a
      // batch re-sends earlier series (known: no new chunk).
      for (let b = 0; b < 40; b++) {
        const batch = Array.from({ length: 5 }, (_, i) =>
          canonicalSeries({ __name__: i % 2 ? 'up' : 'down', job: 'shared', pod: `p${b * 5 + i}`, batch: String(b % 3) }, { first: b * 10, last: b * 10 + 5 }),
        );
        if (b > 0) batch.push(canonicalSeries({ __name__: 'up', job: 'shared', pod: `p${b * 5 - 4}`, batch: String((b - 1) % 3) }, { first: b * 10, last: b * 10 + 5 }));
        await chunked.writeBatch(seriesBatch(batch));
        expected.write(batch);
      }
      for (const selector of ['{job="shared"}', 'up{job="shared", batch="1"}', '{pod=~"p1.*", job!="x"}', '{batch=~"0|2", __name__!="up"}']) {
        const matchers = [parseSeriesSelector(selector)];
        for (const range of [{}, { start: 100, end: 150 }, { start: 395 }, { limit: 7 }]) {
          expect(await chunked.series(matchers, range)).toEqual(expected.series(matchers, range));
          expect(await chunked.labelValues('pod', { matcherSets: matchers, ...range })).toEqual(expected.labelValues('pod', { matcherSets: matchers, ...range }));
        }
      }
      for (const range of [{}, { start: 100, end: 150 }, { start: 152, end: 153 }]) {
        expect(await chunked.labelValues('batch', range)).toEqual(expected.labelValues('batch', range));
        expect(await chunked.labelNames(range)).toEqual(expected.labelNames(range));
      }
      expect(await chunked.series([parseSeriesSelector('{job="shared"}')])).toHaveLength(200);
      await chunked.close();
    });
  });

  describe('series index: streamed postings and limits', () => {
    it('finds the one series in the range of a label with many chunks, past the first pages', async () => {
      const deep = await createSqlSeriesIndex(await openStore());
      // One batch per series: one chunk per series and pair, read a page of chunks at a time.
      // The series in the range is the one whose chunk comes last among those < 2^63 (last on
      // SQLite, which stores hashes signed; past the first 64 on MySQL, which stores them unsigned).
      const all = Array.from({ length: 160 }, (_, i) => canonicalSeries({ __name__: 'deep', pair: 'shared', v: `v${i % 3}`, i: String(i) }, i % 2 ? { first: 90, last: 100 } : { first: 0, last: 10 }));
      const low = all.filter((s) => s.hash < 1n << 63n).sort((a, b) => (a.hash < b.hash ? -1 : 1));
      expect(low.length).toBeGreaterThan(64);
      const inRange = low[low.length - 1];
      const series = all.map((s) => (s === inRange ? { ...s, firstTimestamp: 50, lastTimestamp: 50 } : s));
      // Every label's bounds contain the range, so postings are read. `gone` has the same series
      // but the one in the range: none of its series is in it.
      series.push(...all.filter((s) => s !== inRange).map((s) => canonicalSeries({ gone: 'x', i: s.labels.find((l) => l.name === 'i')!.value }, { first: 0, last: 10 })));
      const tail = canonicalSeries({ gone: 'x', i: 'tail' }, { first: 90, last: 100 });
      const head = canonicalSeries({ gone: 'x', i: 'head' }, { first: 0, last: 5 });
      const expected = new ReferenceIndex();
      for (const s of [...series, tail, head]) {
        await deep.writeBatch(seriesBatch([s]));
        expected.write([s]);
      }
      const range = { start: 40, end: 60 };
      for (const name of ['pair', 'v', 'i', 'gone', '__name__']) expect(await deep.labelValues(name, range)).toEqual(expected.labelValues(name, range));
      expect(await deep.labelNames(range)).toEqual(expected.labelNames(range));
      expect(await deep.labelValues('pair', range)).toEqual(['shared']);
      expect(await deep.labelValues('gone', range)).toEqual([]);
      const late = { start: 95, end: 96 };
      expect(await deep.labelNames(late)).toEqual(expected.labelNames(late));
      expect(await deep.labelValues('gone', late)).toEqual(['x']);
      await deep.close();
    });

    it('returns the first series by key with a limit, over many matches, sets and ranges', async () => {
      const many = await createSqlSeriesIndex(await openStore());
      const expected = new ReferenceIndex();
      for (let b = 0; b < 3; b++) {
        const batch = Array.from({ length: 1_000 }, (_, k) => {
          const i = b * 1_000 + k;
          return canonicalSeries({ __name__: `m${i % 7}`, job: ['api', 'db', 'web'][i % 3], i: String(i), ...(i % 11 === 0 ? { z: 'é😀' } : {}) }, { first: i % 100, last: (i % 100) + 5 });
        });
        await many.writeBatch(seriesBatch(batch));
        expected.write(batch);
      }
      const cases: Array<{ sets: Matcher[][]; limits: number[] }> = [
        { sets: [parseSeriesSelector('{__name__=~".+"}')], limits: [1, 10, 999, 1_001, 2_999, 3_000, 5_000] },
        { sets: [parseSeriesSelector('{job=~"api|db", i!~"1.*"}')], limits: [1, 25, 1_500] },
        { sets: [parseSeriesSelector('{z="é😀"}'), parseSeriesSelector('m3'), parseSeriesSelector('{job="web", __name__=~"m[34]"}')], limits: [10, 300, 800] },
        { sets: [parseSeriesSelector('{i=~"9.*"}')], limits: [5, 50] },
      ];
      for (const { sets, limits } of cases) {
        for (const limit of limits) {
          for (const range of [{}, { start: 40, end: 60 }, { start: 104 }, { end: 2 }]) {
            const query = { ...range, limit };
            expect(await many.series(sets, query)).toEqual(expected.series(sets, query));
          }
        }
      }
      expect(await many.series([parseSeriesSelector('{__name__=~".+"}')], { limit: 10 })).toEqual(expected.series([parseSeriesSelector('{__name__=~".+"}')]).slice(0, 10));
      await many.close();
    });
  });

  describe('series index: look-alike and long texts', () => {
    // Trailing spaces (PAD SPACE collations ignore them), case, a value of exactly the MySQL key
    // limit (1024 bytes) and just past it, long values sharing a prefix longer than that limit and
    // longer than MySQL's default max_sort_length, a multi-byte character across the cut, and a
    // long label name.
    const long = 'p'.repeat(1_500);
    const VALUES = ['a', 'a ', 'a\t', 'A', 'x'.repeat(1_024), 'x'.repeat(1_025), `${long}b`, `${long}a`, `${long}`, `${'q'.repeat(1_023)}é`, `${'q'.repeat(1_023)}éa`];
    const LONG_NAME = `n${'m'.repeat(1_100)}`;
    let texts: SeriesIndex;
    const expected = new ReferenceIndex();

    beforeAll(async () => {
      texts = await createSqlSeriesIndex(await openStore());
      const series = VALUES.flatMap((v, i) => [
        canonicalSeries({ __name__: 'texts', v, i: String(i) }, { first: i, last: i + 10 }),
        canonicalSeries({ __name__: `m_${v}`, [LONG_NAME]: v }, { first: 100 + i, last: 100 + i }),
      ]);
      await texts.writeBatch(seriesBatch(series.slice(0, 9)));
      await texts.writeBatch(seriesBatch(series));
      expected.write(series);
    });
    afterAll(async () => {
      await texts.close();
    });

    it('lists names and values in byte order, each once', async () => {
      expect(await texts.labelValues('v')).toEqual(expected.labelValues('v'));
      expect(await texts.labelValues(LONG_NAME)).toEqual(expected.labelValues(LONG_NAME));
      expect(await texts.labelValues('__name__')).toEqual(expected.labelValues('__name__'));
      expect(await texts.labelNames()).toEqual(expected.labelNames());
      expect(await texts.labelValues('v', { limit: 3 })).toEqual(['A', 'a', 'a\t']);
    });

    it('matches each text exactly, by equality and by regex, and sorts series by key', async () => {
      for (const v of VALUES) {
        const equal = [[createMatcher('=', 'v', v)]];
        expect(await texts.series(equal)).toEqual(expected.series(equal));
        expect(await texts.series(equal)).toHaveLength(1);
        const byLongName = [[createMatcher('=', LONG_NAME, v)]];
        expect(await texts.series(byLongName)).toEqual(expected.series(byLongName));
      }
      for (const selector of ['{v=~"p+a?"}', '{v=~"a\\\\s?"}', '{v!~"a.*", __name__="texts"}', '{v=~"x+|q+é"}', '{__name__=~"m_.*"}']) {
        const matchers = [parseSeriesSelector(selector)];
        expect(await texts.series(matchers)).toEqual(expected.series(matchers));
        expect(await texts.labelValues('v', { matcherSets: matchers })).toEqual(expected.labelValues('v', { matcherSets: matchers }));
        expect(await texts.labelNames({ matcherSets: matchers })).toEqual(expected.labelNames({ matcherSets: matchers }));
      }
    });

    it('applies time ranges to long texts like to short ones', async () => {
      for (const range of [{ start: 5, end: 8 }, { start: 104, end: 106 }, { end: 3 }]) {
        expect(await texts.labelValues('v', range)).toEqual(expected.labelValues('v', range));
        expect(await texts.labelValues(LONG_NAME, range)).toEqual(expected.labelValues(LONG_NAME, range));
        expect(await texts.labelNames(range)).toEqual(expected.labelNames(range));
      }
    });
  });

  describe('series index: metadata', () => {
    const entry = (metricFamilyName: string, help: string, type: 'counter' | 'gauge' = 'counter', unit = '') => ({ metricFamilyName, type, help, unit });

    it('groups by metric family in name order and honours metric, limit and limitPerMetric', async () => {
      const withMetadata = await createSqlSeriesIndex(await openStore());
      await withMetadata.writeBatch(
        seriesBatch([], [entry('b_total', 'B.'), entry('a_total', 'A1.'), entry('a_total', 'A2.'), entry('c_bytes', 'C.', 'gauge', 'bytes')]),
      );
      expect(await withMetadata.metadata()).toEqual({
        a_total: [
          { type: 'counter', help: 'A1.', unit: '' },
          { type: 'counter', help: 'A2.', unit: '' },
        ],
        b_total: [{ type: 'counter', help: 'B.', unit: '' }],
        c_bytes: [{ type: 'gauge', help: 'C.', unit: 'bytes' }],
      });
      expect(Object.keys(await withMetadata.metadata())).toEqual(['a_total', 'b_total', 'c_bytes']);
      expect(await withMetadata.metadata({ metric: 'c_bytes' })).toEqual({ c_bytes: [{ type: 'gauge', help: 'C.', unit: 'bytes' }] });
      expect(await withMetadata.metadata({ metric: 'nope' })).toEqual({});
      expect(Object.keys(await withMetadata.metadata({ limit: 2 }))).toEqual(['a_total', 'b_total']);
      expect(await withMetadata.metadata({ limitPerMetric: 1, limit: 1 })).toEqual({ a_total: [{ type: 'counter', help: 'A1.', unit: '' }] });
      await expect(withMetadata.metadata({ limit: -2 })).rejects.toThrow(InvalidInputError);
      await withMetadata.close();
    });
  });

  describe('series index: invalid queries', () => {
    const up: Matcher[][] = [parseSeriesSelector('up')];

    it('needs at least one matcher set for series()', async () => {
      await expect(index.series([])).rejects.toThrow(/no match\[\] parameter provided/);
    });

    it('refuses a matcher set whose matchers all match the empty string, naming it', async () => {
      const everything = [createMatcher('=~', 'job', '.*')];
      await expect(index.series([...up, everything])).rejects.toThrow(/match\[\] #2: a selector must contain/);
      await expect(index.labelNames({ matcherSets: [everything] })).rejects.toThrow(InvalidInputError);
      await expect(index.labelValues('job', { matcherSets: [everything] })).rejects.toThrow(InvalidInputError);
    });

    it('refuses an end before the start, a negative or fractional limit, and an empty label name', async () => {
      await expect(index.series(up, { start: 10, end: 5 })).rejects.toThrow(/end timestamp must not be before start time/);
      await expect(index.series(up, { limit: -1 })).rejects.toThrow(InvalidInputError);
      await expect(index.labelNames({ limit: 1.5 })).rejects.toThrow(InvalidInputError);
      await expect(index.labelValues('')).rejects.toThrow(InvalidInputError);
      await expect(index.series(up, { start: Number.NaN })).rejects.toThrow(InvalidInputError);
    });

    it('reads a limit of 0 as no limit, like Prometheus', async () => {
      expect(await index.series(up, { limit: 0 })).toEqual(reference.series(up));
    });
  });
}
