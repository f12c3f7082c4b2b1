import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMysqlIndex, type MysqlSeriesIndex } from '../../src/clients/mysql/mysql-index.js';
import { openMysqlStore, type MysqlStore } from '../../src/clients/mysql/mysql-store.js';
import { isRetriable } from '../../src/errors.js';
import { seriesBatch } from '../../src/index/fixtures.test-support.js';
import { generateSeries, seededRandom } from '../../src/index/reference-index.test-support.js';
import { parseSeriesSelector } from '../../src/index/selector.js';
import type { CanonicalSeries } from '../../src/series/canonical.js';
import { backoffDelayMs, defaultRetryPolicy, type RetryPolicy } from '../../src/runtime/retry.js';
import { databaseUrl, dropDatabase, testDatabaseName } from './support.js';

/**
 * Several consumers write overlapping windows into one index at once. A window may fail with a
 * retriable error (deadlock victim, lock wait timeout, or "new series stored concurrently by
 * another writer"); `writeBatch` is idempotent, so the caller writes it again after a backoff, as
 * the stage runtime's retry does. Nothing may fail for good, and every count must be exact.
 */

const WRITERS = 4;
const policy: RetryPolicy = { ...defaultRetryPolicy, maxRetries: 20, initialBackoffMs: 10, maxBackoffMs: 500 };

interface Outcome {
  retries: number;
  reasons: string[];
}

async function writeWithRetry(index: MysqlSeriesIndex, series: CanonicalSeries[], outcome: Outcome): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await index.writeBatch(seriesBatch(series));
      return;
    } catch (err) {
      if (!isRetriable(err) || attempt > policy.maxRetries) throw err;
      outcome.retries++;
      outcome.reasons.push((err as Error).message.slice(0, 60));
      await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(policy, attempt)));
    }
  }
}

/** What the index must hold after `writes`: per series its time bounds, per label pair its series and bounds. */
function expectedState(writes: readonly CanonicalSeries[]) {
  const series = new Map<bigint, { first: number; last: number }>();
  for (const s of writes) {
    const seen = series.get(s.hash);
    series.set(s.hash, { first: Math.min(seen?.first ?? Infinity, s.firstTimestamp), last: Math.max(seen?.last ?? -Infinity, s.lastTimestamp) });
  }
  const pairs = new Map<string, { hashes: Set<bigint>; first: number; last: number }>();
  const names = new Map<string, Set<bigint>>();
  for (const s of writes) {
    const bounds = series.get(s.hash)!;
    for (const { name, value } of s.labels) {
      const key = JSON.stringify([name, value]);
      const pair = pairs.get(key) ?? { hashes: new Set<bigint>(), first: Infinity, last: -Infinity };
      pair.hashes.add(s.hash);
      pair.first = Math.min(pair.first, bounds.first);
      pair.last = Math.max(pair.last, bounds.last);
      pairs.set(key, pair);
      names.set(name, (names.get(name) ?? new Set()).add(s.hash));
    }
  }
  return { series, pairs, names };
}

let database: string;
let writers: MysqlSeriesIndex[];
let inspect: MysqlStore;

beforeAll(async () => {
  database = testDatabaseName();
  // Separate indexes (pools) on one database: like separate consumer processes.
  writers = [];
  for (let i = 0; i < WRITERS; i++) writers.push(await openMysqlIndex({ url: databaseUrl(database), createDatabase: true, poolSize: 1 }));
  inspect = await openMysqlStore({ url: databaseUrl(database) });
});
afterAll(async () => {
  for (const index of writers ?? []) await index.close();
  await inspect?.close();
  await dropDatabase(database);
});

async function checkCounts(writes: readonly CanonicalSeries[]) {
  const expected = expectedState(writes);
  const stored = await inspect.query<{ hash: bigint; first_seen: bigint; last_seen: bigint }>('SELECT hash, first_seen, last_seen FROM series');
  expect(stored.length).toBe(expected.series.size);
  for (const row of stored) expect({ first: Number(row.first_seen), last: Number(row.last_seen) }).toEqual(expected.series.get(row.hash));

  const values = await inspect.query<{ label_name: string; label_value: string; series_count: bigint; first_seen: bigint; last_seen: bigint }>(
    'SELECT label_name, label_value, series_count, first_seen, last_seen FROM label_values',
  );
  // Every series in exactly one chunk of each of its pairs: no hash twice, none missing.
  const chunks = await inspect.query<{ label_name: string; label_value: string; hashes: Buffer }>(
    'SELECT v.label_name, v.label_value, p.hashes FROM label_postings p JOIN label_values v ON v.name_key = p.name_key AND v.value_key = p.value_key',
  );
  const postings = new Map<string, bigint[]>();
  for (const { label_name, label_value, hashes } of chunks) {
    const key = JSON.stringify([label_name, label_value]);
    const found = postings.get(key) ?? [];
    for (let at = 0; at < hashes.length; at += 8) found.push(hashes.readBigUInt64BE(at));
    postings.set(key, found);
  }
  expect(values.length).toBe(expected.pairs.size);
  for (const row of values) {
    const key = JSON.stringify([row.label_name, row.label_value]);
    const pair = expected.pairs.get(key);
    const hashes = postings.get(key) ?? [];
    expect({ count: Number(row.series_count), postings: hashes.length, first: Number(row.first_seen), last: Number(row.last_seen) }).toEqual({
      count: pair?.hashes.size,
      postings: pair?.hashes.size,
      first: pair?.first,
      last: pair?.last,
    });
    expect(new Set(hashes)).toEqual(pair?.hashes);
  }
  const names = await inspect.query<{ label_name: string; series_count: bigint }>('SELECT label_name, series_count FROM label_names');
  expect(Object.fromEntries(names.map((r) => [r.label_name, Number(r.series_count)]))).toEqual(
    Object.fromEntries([...expected.names].map(([name, hashes]) => [name, hashes.size])),
  );
}

describe('concurrent writers of overlapping batches', () => {
  const universe = generateSeries(3_000, seededRandom(99));
  const random = seededRandom(4242);
  const written: CanonicalSeries[] = [];
  const at = (s: CanonicalSeries, first: number): CanonicalSeries => ({ ...s, firstTimestamp: first, lastTimestamp: first + Math.floor(random() * 50) });

  it('write the same new series at the same moment without failing for good or counting twice', async () => {
    const outcome: Outcome = { retries: 0, reasons: [] };
    const shared = universe.slice(0, 1_000);
    const batches = writers.map((_, w) => shared.map((s) => at(s, 100 + w)));
    await Promise.all(writers.map((index, w) => writeWithRetry(index, batches[w], outcome)));
    written.push(...batches.flat());
    await checkCounts(written);
    console.info(`identical windows: ${outcome.retries} retries`, [...new Set(outcome.reasons)]);
  });

  it('write many overlapping windows of new and known series, with exact counts and bounds after', async () => {
    const outcome: Outcome = { retries: 0, reasons: [] };
    const windows = writers.map(() =>
      Array.from({ length: 8 }, () => {
        // Half from a shared hot range, half from anywhere: new series meet known ones.
        const picked = new Map<bigint, CanonicalSeries>();
        while (picked.size < 400) {
          const s = random() < 0.5 ? universe[Math.floor(random() * 1_500)] : universe[Math.floor(random() * universe.length)];
          picked.set(s.hash, at(s, Math.floor(random() * 1_000)));
        }
        return [...picked.values()];
      }),
    );
    await Promise.all(
      writers.map(async (index, w) => {
        for (const window of windows[w]) await writeWithRetry(index, window, outcome);
      }),
    );
    written.push(...windows.flat(2));
    await checkCounts(written);
    console.info(`overlapping windows: ${outcome.retries} retries`, [...new Set(outcome.reasons)]);

    // And the index answers from those counts like from a fresh single-writer index would.
    const up = [parseSeriesSelector('up')];
    const expectedUp = new Set(written.filter((s) => s.metricName === 'up').map((s) => s.key));
    expect((await writers[0].series(up)).length).toBe(expectedUp.size);
  });
});
