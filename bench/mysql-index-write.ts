/**
 * How fast does the MySQL series index take windows of new and of re-sent series? Writes windows
 * of realistic series (8 labels: a few hundred metric names, jobs, instances, a high-cardinality
 * pod label) through `writeBatch` with 1 or more concurrent writers, and prints series/s and where
 * the time goes per statement kind. A bare one-table upsert of the same windows is the baseline.
 *
 *   npx tsx bench/mysql-index-write.ts [windows=20] [writers=1] [windowSize=1000]
 *
 * Uses WEIR_MYSQL_URL (default mysql://root@127.0.0.1:3306) and a scratch database it drops.
 */
import { randomBytes } from 'node:crypto';
import { openMysqlStore } from '../src/clients/mysql/mysql-store.js';
import { isRetriable } from '../src/errors.js';
import { seriesHash, seriesKey, type CanonicalSeries } from '../src/remote-write/canonical.js';
import type { Label } from '../src/remote-write/types.js';
import { createSqlSeriesIndex } from '../src/index/sql-series-index.js';
import type { SqlExecutor, SqlStore } from '../src/index/sql-store.js';

const windows = Number(process.argv[2] ?? 20);
const writers = Number(process.argv[3] ?? 1);
const windowSize = Number(process.argv[4] ?? 1_000);
const serverUrl = new URL(process.env.WEIR_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');

function series(i: number, time: number): CanonicalSeries {
  const labels: Label[] = [
    { name: '__name__', value: `metric_${i % 300}_total` },
    { name: 'container', value: `c${i % 7}` },
    { name: 'env', value: i % 3 === 0 ? 'staging' : 'prod' },
    { name: 'instance', value: `10.0.${(i >> 8) % 256}.${i % 256}:9100` },
    { name: 'job', value: `job-${i % 40}` },
    { name: 'namespace', value: `ns-${i % 25}` },
    { name: 'pod', value: `pod-${Math.floor(i / 3)}-${(i * 2654435761) % 100_000}` },
    { name: 'region', value: `r${i % 4}` },
  ];
  return { labels, metricName: labels[0].value, key: seriesKey(labels), hash: seriesHash(labels), firstTimestamp: time, lastTimestamp: time + 15_000 };
}

const windowOf = (w: number, time: number) => Array.from({ length: windowSize }, (_, i) => series(w * windowSize + i, time));

/** Wall time per statement kind ("INSERT INTO label_postings", "SELECT hash, series_key …"). */
function timed(store: SqlStore, spent: Map<string, number>): SqlStore {
  const measure = async <T>(sql: string, run: () => Promise<T>) => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      const kind = sql.startsWith('INSERT INTO series') ? `${sql.slice(0, 18)}${sql.includes('LEAST') ? ' (known)' : ' (new)'}` : sql.slice(0, 26);
      spent.set(kind, (spent.get(kind) ?? 0) + performance.now() - started);
    }
  };
  const wrap = (tx: SqlExecutor): SqlExecutor => ({
    query: (sql, params) => measure(sql, () => tx.query(sql, params)),
    exec: (sql, params) => measure(sql, () => tx.exec(sql, params)),
  });
  return {
    dialect: store.dialect,
    ...wrap(store),
    transaction: (work) => measure('COMMIT (transaction total)', () => store.transaction((tx) => work(wrap(tx)))),
    close: () => store.close(),
  };
}

/** Writes every window, `writers` at a time; retriable failures are retried (idempotent writes). */
async function run(label: string, batches: CanonicalSeries[][], write: (batch: CanonicalSeries[]) => Promise<unknown>, spent?: Map<string, number>) {
  spent?.clear();
  let next = 0;
  let retries = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        for (;;) {
          try {
            await write(batch);
            break;
          } catch (err) {
            if (!isRetriable(err)) throw err;
            retries++;
          }
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const count = batches.length * windowSize;
  console.log(`${label.padEnd(44)} ${Math.round(count / seconds).toLocaleString('en').padStart(8)} series/s  (${count} in ${seconds.toFixed(2)} s, ${retries} retries)`);
  if (spent && writers === 1) {
    const total = [...spent].find(([k]) => k.startsWith('COMMIT'))?.[1] ?? 1;
    for (const [kind, ms] of [...spent].filter(([k]) => !k.startsWith('COMMIT')).sort((a, b) => b[1] - a[1])) {
      console.log(`    ${kind.padEnd(30)} ${((100 * ms) / total).toFixed(0).padStart(3)}%  ${(ms / batches.length).toFixed(1)} ms/window`);
    }
  }
}

const database = `weir_bench_${randomBytes(4).toString('hex')}`;
serverUrl.pathname = `/${database}`;
const store = await openMysqlStore({ url: serverUrl.toString(), createDatabase: true, poolSize: writers });
try {
  const spent = new Map<string, number>();
  const index = await createSqlSeriesIndex(timed(store, spent));
  const t0 = Date.UTC(2025, 0, 1);
  const fresh = Array.from({ length: windows }, (_, w) => windowOf(w, t0));
  const batch = (s: CanonicalSeries[]) => ({ series: s, metadata: [], receivedAt: t0, counts: { samples: s.length, histograms: 0, exemplars: 0 } });
  console.log(`MariaDB ${(await store.query<{ v: string }>('SELECT VERSION() AS v'))[0].v}; ${windows} windows of ${windowSize} series, ${writers} writer(s)`);

  await store.exec('CREATE TABLE bare (hash BIGINT UNSIGNED NOT NULL PRIMARY KEY, series_key MEDIUMBLOB NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL)');
  const bareSql = (n: number) =>
    `INSERT INTO bare (hash, series_key, first_seen, last_seen) VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?)').join(', ')} ` +
    'ON DUPLICATE KEY UPDATE first_seen = LEAST(first_seen, VALUES(first_seen)), last_seen = GREATEST(last_seen, VALUES(last_seen))';
  await run('baseline: bare one-table upsert', fresh, (s) =>
    store.transaction((tx) => tx.exec(bareSql(s.length), s.flatMap((x) => [x.hash, x.key, x.firstTimestamp, x.lastTimestamp]))),
  );

  await run('writeBatch, new series', fresh, (s) => index.writeBatch(batch(s)), spent);
  const later = fresh.map((w) => w.map((s) => ({ ...s, firstTimestamp: s.firstTimestamp + 60_000, lastTimestamp: s.lastTimestamp + 60_000 })));
  await run('writeBatch, known series seen later', later, (s) => index.writeBatch(batch(s)), spent);
  await run('writeBatch, known series re-sent unchanged', later, (s) => index.writeBatch(batch(s)), spent);
  const [{ n }] = await store.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM label_postings');
  console.log(`postings: ${n}`);
} finally {
  await store.exec(`DROP DATABASE ${database}`).catch(() => undefined);
  await store.close();
}
