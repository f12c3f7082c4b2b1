import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { canonicalSeries, seriesBatch } from './fixtures.test-support.js';
import { parseSeriesSelector } from './selector.js';
import type { HashCollision, SeriesIndex } from './series-index.js';
import { createSqlSeriesIndex } from './sql-series-index.js';
import type { SqlStore, SqlValue } from './sql-store.js';
import { writeSeriesBatch } from './write-batch.js';

/**
 * The write-path tests every `SqlStore` must pass (SQLite in `write-batch.test.ts`, MySQL in
 * `test/mysql/series-index.test.ts`). They read the tables directly, through the columns both
 * schemas share.
 */

/** A new, empty store; closing it discards the data. */
export type OpenStore = () => Promise<SqlStore>;

export function describeWriteBatch(openStore: OpenStore): void {
  let store: SqlStore;
  let index: SeriesIndex;
  let collisions: HashCollision[];

  beforeEach(async () => {
    store = await openStore();
    collisions = [];
    index = await createSqlSeriesIndex(store, { onHashCollision: (c) => collisions.push(c) });
  });
  afterEach(async () => {
    await index.close();
  });

  const TABLES = ['series', 'label_postings', 'label_names', 'label_values', 'metric_metadata'];
  async function dumpTables(): Promise<Record<string, unknown[]>> {
    const dump: Record<string, unknown[]> = {};
    for (const table of TABLES) dump[table] = await store.query(`SELECT * FROM ${table} ORDER BY 1, 2`);
    return dump;
  }

  const select = (selector: string) => index.series([parseSeriesSelector(selector)]);
  const upA = (first: number, last: number) => canonicalSeries({ __name__: 'up', job: 'a' }, { first, last });
  const upB = (first: number, last: number) => canonicalSeries({ __name__: 'up', job: 'b', zone: 'z1' }, { first, last });
  const gauge = { metricFamilyName: 'up', type: 'gauge', help: 'Target is up.', unit: '' } as const;

  describe('writeBatch', () => {
    it('counts new and already known series', async () => {
      expect(await index.writeBatch(seriesBatch([upA(10, 20)]))).toEqual({ newSeries: 1, updatedSeries: 0, hashCollisions: [] });
      expect(await index.writeBatch(seriesBatch([upA(10, 20), upB(10, 20)]))).toEqual({ newSeries: 1, updatedSeries: 1, hashCollisions: [] });
      expect(await index.stats()).toEqual({ series: 2, hashCollisions: 0 });
    });

    it('keeps first_seen as the minimum and last_seen as the maximum, across and within batches', async () => {
      await index.writeBatch(seriesBatch([upA(100, 200)]));
      await index.writeBatch(seriesBatch([upA(150, 160)]));
      await index.writeBatch(seriesBatch([upA(120, 300), upA(50, 60)]));
      expect(await store.query('SELECT first_seen, last_seen FROM series')).toEqual([{ first_seen: 50n, last_seen: 300n }]);
      expect(await store.query("SELECT first_seen, last_seen FROM label_values WHERE label_name = 'job'")).toEqual([
        { first_seen: 50n, last_seen: 300n },
      ]);
    });

    it('is idempotent: the same batch twice changes nothing', async () => {
      const batch = seriesBatch([upA(10, 20), upB(15, 25)], [gauge, gauge], 1_000);
      await index.writeBatch(batch);
      const before = await dumpTables();
      expect(await index.writeBatch(batch)).toEqual({ newSeries: 0, updatedSeries: 2, hashCollisions: [] });
      expect(await dumpTables()).toEqual(before);
    });

    it('changes only last_seen when the same series and metadata come again later', async () => {
      await index.writeBatch(seriesBatch([upA(10, 20), upB(15, 25)], [gauge], 1_000));
      const before = await dumpTables();
      await index.writeBatch(seriesBatch([upA(30, 40), upB(30, 40)], [gauge], 2_000));
      const after = await dumpTables();
      const withoutLastSeen = (dump: Record<string, unknown[]>) =>
        Object.fromEntries(Object.entries(dump).map(([t, rows]) => [t, rows.map((r) => ({ ...(r as object), last_seen: undefined }))]));
      expect(withoutLastSeen(after)).toEqual(withoutLastSeen(before));
      expect(after).not.toEqual(before);
      expect(after.metric_metadata).toEqual([expect.objectContaining({ last_seen: 2_000n })]);
    });

    it('stores hashes at and above 2^63 and finds them again', async () => {
      const high = canonicalSeries({ __name__: 'high', i: '1' }, { first: 1, last: 2, hash: (1n << 64n) - 1n });
      const edge = canonicalSeries({ __name__: 'high', i: '2' }, { first: 1, last: 2, hash: 1n << 63n });
      await index.writeBatch(seriesBatch([high, edge]));
      const stored = await store.query<{ hash: SqlValue }>('SELECT hash FROM series');
      expect(new Set(stored.map((r) => store.dialect.decodeHash(r.hash)))).toEqual(new Set([1n << 63n, (1n << 64n) - 1n]));
      expect(await select('high')).toEqual([{ __name__: 'high', i: '1' }, { __name__: 'high', i: '2' }]);
      expect(await index.writeBatch(seriesBatch([high, edge]))).toMatchObject({ newSeries: 0, updatedSeries: 2 });
    });

    it('counts series per label pair once, however often they are written', async () => {
      await index.writeBatch(seriesBatch([upA(1, 2), upB(1, 2)]));
      await index.writeBatch(seriesBatch([upA(3, 4), upB(3, 4), upA(5, 6)]));
      expect(await store.query("SELECT label_value, series_count FROM label_values WHERE label_name = '__name__'")).toEqual([
        { label_value: 'up', series_count: 2n },
      ]);
      expect(await store.query('SELECT label_name, series_count FROM label_names ORDER BY label_name')).toEqual([
        { label_name: '__name__', series_count: 2n },
        { label_name: 'job', series_count: 2n },
        { label_name: 'zone', series_count: 1n },
      ]);
    });

    it('writes batches larger than one statement holds', async () => {
      const many = Array.from({ length: 1_234 }, (_, i) => canonicalSeries({ __name__: 'm', i: String(i), job: `j${i % 7}` }, { first: i, last: i }));
      expect(await index.writeBatch(seriesBatch(many))).toMatchObject({ newSeries: 1_234 });
      expect(await index.stats()).toMatchObject({ series: 1_234 });
      // One chunk per distinct pair of the batch: __name__=m, 1,234 values of i, 7 of job.
      expect(await store.query('SELECT COUNT(*) AS n FROM label_postings')).toEqual([{ n: 1n + 1_234n + 7n }]);
      expect(await index.series([parseSeriesSelector('m{job="j3"}')])).toHaveLength(Math.ceil((1_234 - 3) / 7));
      expect(await index.labelValues('job')).toEqual(['j0', 'j1', 'j2', 'j3', 'j4', 'j5', 'j6']);
    });

    it('keeps distinct metadata entries per family and skips entries without a family', async () => {
      const other = { ...gauge, help: 'Other help.' };
      await index.writeBatch(seriesBatch([], [gauge, gauge, other, { ...gauge, metricFamilyName: '' }], 5));
      expect(await index.metadata()).toEqual({
        up: [
          { type: 'gauge', help: 'Other help.', unit: '' },
          { type: 'gauge', help: 'Target is up.', unit: '' },
        ],
      });
    });

    it('rejects a hash outside the unsigned 64-bit range without writing anything', async () => {
      const bad = canonicalSeries({ __name__: 'bad' }, { first: 1, last: 1, hash: 1n << 64n });
      await expect(index.writeBatch(seriesBatch([upA(1, 1), bad]))).rejects.toThrow(InvalidInputError);
      expect(await index.stats()).toMatchObject({ series: 0 });
    });
  });

  describe('writeBatch: re-sent series', () => {
    it('writes nothing for series re-sent within their stored times, and still merges wider ones', async () => {
      await index.writeBatch(seriesBatch([upA(10, 50), upB(10, 50)]));
      const before = await dumpTables();
      const statements: string[] = [];
      const recording: SqlStore = {
        dialect: store.dialect,
        query: (sql, params) => store.query(sql, params),
        exec: (sql, params) => store.exec(sql, params),
        close: () => store.close(),
        transaction: (work) =>
          store.transaction((tx) =>
            work({
              query: (sql, params) => (statements.push(sql), tx.query(sql, params)),
              exec: (sql, params) => (statements.push(sql), tx.exec(sql, params)),
            }),
          ),
      };
      expect(await writeSeriesBatch(recording, seriesBatch([upA(20, 30), upB(10, 50)]))).toEqual({ newSeries: 0, updatedSeries: 2, hashCollisions: [] });
      expect(statements.filter((sql) => !sql.startsWith('SELECT'))).toEqual([]);
      expect(await dumpTables()).toEqual(before);

      await writeSeriesBatch(recording, seriesBatch([upA(20, 60), upB(10, 50)]));
      expect(await store.query('SELECT first_seen, last_seen FROM series ORDER BY series_key')).toEqual([
        { first_seen: 10n, last_seen: 60n },
        { first_seen: 10n, last_seen: 50n },
      ]);
      expect(await store.query("SELECT label_value, last_seen FROM label_values WHERE label_name = 'job' ORDER BY label_value")).toEqual([
        { label_value: 'a', last_seen: 60n },
        { label_value: 'b', last_seen: 50n },
      ]);
    });
  });

  describe('writeBatch: a concurrent writer', () => {
    it('fails retriably, writing nothing, when new series were stored after the batch read them, and counts them once on retry', async () => {
      await index.writeBatch(seriesBatch([upA(1, 2)]));
      // The batch's read misses the stored series, as when another writer commits it in between.
      const staleRead: SqlStore = {
        dialect: store.dialect,
        query: (sql, params) => store.query(sql, params),
        exec: (sql, params) => store.exec(sql, params),
        close: () => store.close(),
        transaction: (work) =>
          store.transaction((tx) =>
            work({
              query: (sql, params) => (sql.startsWith('SELECT hash, series_key') ? Promise.resolve([]) : tx.query(sql, params)),
              exec: (sql, params) => tx.exec(sql, params),
            }),
          ),
      };
      const error = await writeSeriesBatch(staleRead, seriesBatch([upA(1, 2), upB(1, 2)])).catch((err: unknown) => err);
      expect(error).toMatchObject({ retriable: true, message: expect.stringMatching(/1 of 2 new series were stored concurrently/) });
      expect(await index.stats()).toMatchObject({ series: 1 });
      expect(await index.writeBatch(seriesBatch([upA(1, 2), upB(1, 2)]))).toMatchObject({ newSeries: 1, updatedSeries: 1 });
      expect(await store.query('SELECT label_name, series_count FROM label_names ORDER BY label_name')).toEqual([
        { label_name: '__name__', series_count: 2n },
        { label_name: 'job', series_count: 2n },
        { label_name: 'zone', series_count: 1n },
      ]);
    });
  });

  describe('writeBatch: hash collisions', () => {
    const hash = 42n;
    const kept = canonicalSeries({ __name__: 'kept', job: 'k' }, { first: 100, last: 200, hash });
    const intruder = canonicalSeries({ __name__: 'intruder', job: 'i' }, { first: 1, last: 999, hash });

    it('keeps the stored series and reports the newcomer instead of merging it', async () => {
      await index.writeBatch(seriesBatch([kept]));
      const result = await index.writeBatch(seriesBatch([intruder]));
      const expected = { hash, keptKey: kept.key, droppedKey: intruder.key };
      expect(result).toEqual({ newSeries: 0, updatedSeries: 0, hashCollisions: [expected] });
      expect(collisions).toEqual([expected]);
      expect(await index.stats()).toEqual({ series: 1, hashCollisions: 1 });
      expect(await store.query('SELECT series_key, first_seen, last_seen FROM series')).toEqual([
        { series_key: kept.key, first_seen: 100n, last_seen: 200n },
      ]);
      expect(await select('intruder')).toEqual([]);
      expect(await index.labelValues('job')).toEqual(['k']);
      expect(await index.labelValues('__name__', { start: 0, end: 50 })).toEqual([]);
    });

    it('detects a collision inside one batch and keeps the first of the two', async () => {
      const result = await index.writeBatch(seriesBatch([kept, intruder, kept]));
      expect(result).toEqual({ newSeries: 1, updatedSeries: 0, hashCollisions: [{ hash, keptKey: kept.key, droppedKey: intruder.key }] });
      expect(await index.labelNames()).toEqual(['__name__', 'job']);
      expect(await index.labelValues('__name__')).toEqual(['kept']);
    });

    it('still updates the stored series when it comes again', async () => {
      await index.writeBatch(seriesBatch([kept]));
      await index.writeBatch(seriesBatch([intruder, canonicalSeries({ __name__: 'kept', job: 'k' }, { first: 50, last: 500, hash })]));
      expect(await store.query('SELECT first_seen, last_seen FROM series')).toEqual([{ first_seen: 50n, last_seen: 500n }]);
      expect(collisions).toEqual([{ hash, keptKey: kept.key, droppedKey: intruder.key }]);
    });
  });
}
