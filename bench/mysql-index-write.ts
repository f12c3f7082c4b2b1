/**
 * How fast does the MySQL series index take windows of new and of re-sent series? Writes windows
 * of realistic series (bench/lib/synthetic-series.ts: 361 series per scraped target, 6 to 9 labels)
 * through `writeBatch` with 1 or more concurrent writers, and prints series/s, the CPU seconds
 * mariadbd and this process spent per 1,000 series, and where the time goes per statement kind.
 * A bare one-table upsert of the same windows is the baseline.
 *
 * Windows come in two orders: by target (consecutive series: what one scrape sends) and by hash
 * (what the indexer reads from Kafka, where the ingest role keys events by series hash: a window
 * mixes series of hundreds of targets, so nearly every `instance`/`pod` pair is its own).
 *
 *   npx tsx bench/mysql-index-write.ts [windows=20] [writers=1] [windowSize=1000] [order=both|target|hash]
 *
 * Uses WEIR_MYSQL_URL (default mysql://root@127.0.0.1:3306) and a scratch database it drops.
 */
import { randomBytes } from 'node:crypto';
import { openMysqlStore } from '../src/clients/mysql/mysql-store.js';
import { isRetriable } from '../src/errors.js';
import type { CanonicalSeries } from '../src/series/canonical.js';
import { createSqlSeriesIndex } from '../src/index/sql-series-index.js';
import type { SqlExecutor, SqlStore } from '../src/index/sql-store.js';
import { cpuSeconds, servicePids } from './lib/child-weir.js';
import { syntheticSeriesRange } from './lib/synthetic-series.js';

const windows = Number(process.argv[2] ?? 20);
const writers = Number(process.argv[3] ?? 1);
const windowSize = Number(process.argv[4] ?? 1_000);
const orders = (process.argv[5] ?? 'both') === 'both' ? ['target', 'hash'] : [process.argv[5]];
const serverUrl = new URL(process.env.WEIR_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
const mariadbPid = servicePids().mariadb;

/** `windows` windows of distinct series (each order its own series: `salt`), in target or hash order. */
function windowsOf(order: string, time: number): CanonicalSeries[][] {
  const all = syntheticSeriesRange(0, windows * windowSize, { salt: `bench-${order}`, time });
  if (order === 'hash') all.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  else if (order !== 'target') throw new Error(`order must be target, hash or both, got ${order}`);
  return Array.from({ length: windows }, (_, w) => all.slice(w * windowSize, (w + 1) * windowSize));
}

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
  const cpuBefore = { mariadb: cpuSeconds(mariadbPid), self: process.cpuUsage() };
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
  const selfCpu = process.cpuUsage(cpuBefore.self);
  const perThousand = (cpu: number) => ((1000 * cpu) / count).toFixed(3);
  console.log(
    `${label.padEnd(44)} ${Math.round(count / seconds).toLocaleString('en').padStart(8)} series/s  (${count} in ${seconds.toFixed(2)} s, ${retries} retries; ` +
      `CPU s per 1,000 series: mariadbd ${perThousand(cpuSeconds(mariadbPid) - cpuBefore.mariadb)}, bench ${perThousand((selfCpu.user + selfCpu.system) / 1e6)})`,
  );
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
  const batch = (s: CanonicalSeries[]) => ({ series: s, metadata: [], receivedAt: t0, counts: { samples: s.length, histograms: 0, exemplars: 0 } });
  console.log(`MariaDB ${(await store.query<{ v: string }>('SELECT VERSION() AS v'))[0].v}; ${windows} windows of ${windowSize} series, ${writers} writer(s); uptime load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  await store.exec('CREATE TABLE bare (hash BIGINT UNSIGNED NOT NULL PRIMARY KEY, series_key MEDIUMBLOB NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL)');
  const bareSql = (n: number) =>
    `INSERT INTO bare (hash, series_key, first_seen, last_seen) VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?)').join(', ')} ` +
    'ON DUPLICATE KEY UPDATE first_seen = LEAST(first_seen, VALUES(first_seen)), last_seen = GREATEST(last_seen, VALUES(last_seen))';
  for (const order of orders) {
    const fresh = windowsOf(order, t0);
    console.log(`-- windows in ${order} order`);
    await run('baseline: bare one-table upsert', fresh, (s) =>
      store.transaction((tx) => tx.exec(bareSql(s.length), s.flatMap((x) => [x.hash, x.key, x.firstTimestamp, x.lastTimestamp]))),
    );
    await run('writeBatch, new series', fresh, (s) => index.writeBatch(batch(s)), spent);
    const later = fresh.map((w) => w.map((s) => ({ ...s, firstTimestamp: s.firstTimestamp + 60_000, lastTimestamp: s.lastTimestamp + 60_000 })));
    await run('writeBatch, known series seen later', later, (s) => index.writeBatch(batch(s)), spent);
    await run('writeBatch, known series re-sent unchanged', later, (s) => index.writeBatch(batch(s)), spent);
  }
  const [{ n }] = await store.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM label_postings');
  const [{ v }] = await store.query<{ v: bigint }>('SELECT COUNT(*) AS v FROM label_values');
  const [{ s: stored }] = await store.query<{ s: bigint }>('SELECT COUNT(*) AS s FROM series');
  console.log(`series: ${stored}, postings chunks: ${n} (${(Number(n) / Number(stored)).toFixed(2)} per series), label_values: ${v}`);
} finally {
  await store.exec(`DROP DATABASE ${database}`).catch(() => undefined);
  await store.close();
}
