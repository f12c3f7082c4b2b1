/**
 * indexer-mariadb: how many series per second does the indexer role (topology/indexer.yaml) upsert
 * into MariaDB, label postings included? A fresh 8-partition topic is filled with N series events
 * (made the way the ingest role makes them: `encodeSeriesBatch` of 500-series batches, so about 8
 * records of ~60 series per batch), then weir starts on a fresh
 * consumer group and database and works through the backlog. The clock runs from the first decoded
 * batch to the moment the group's committed offsets cover all N (offsets are committed only after a
 * window's transaction), so the group join at start does not count; the rate from /-/ready is
 * reported beside it.
 *
 *   npx tsx bench/scenarios/indexer-mariadb.ts [--quick] [--runs n] [--profile dir]
 *
 * With a profile directory (`npm run bench -- --profile`), one more run under `node --cpu-prof`
 * (not in the figures) adds weir's top self-time functions over the measured interval to the findings.
 */
import { corpusDir } from '../../test/support/corpus.js';
import { mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createKafkaClient } from '../../src/clients/kafka/index.js';
import { encodeSeriesBatch, type EncodedEvents } from '../../src/events/index-event.js';
import { buildWeir, cpuMeter, createScratch, REPO_ROOT, scrapeValue, serviceUrls, servicePids, startChildWeir, type ChildWeir } from '../lib/child-weir.js';
import { monotonicUs, profileFindings, summarizeProfileFile, type ProfileWindow } from '../lib/profile-summary.js';
import { figure, median, type Scenario, type ScenarioResult } from '../lib/scenario.js';
import { syntheticSeriesRange } from '../lib/synthetic-series.js';

const PARTITIONS = 8;
/** The new-series-kafka scenario's request size: the ingest role writes a batch per request. */
const SERIES_PER_REQUEST = 500;
const TARGET = 50_000;

interface RunResult {
  seriesPerSecond: number;
  firstQuarterPerSecond: number;
  lastQuarterPerSecond: number;
  fromReadyPerSecond: number;
  windows: number;
  windowMs: number;
  retries: number;
  weirCpu: number;
  mariadbCpu: number;
  /** CPU milliseconds per 1,000 series over the measured interval. */
  weirCpuMsPer1000: number;
  mariadbCpuMsPer1000: number;
  machineBusy: number;
  kafkaCpu: number;
  iowait: number;
  /** Data and indexes of the database after the run (InnoDB's estimate). */
  indexMiB: number;
  bufferPoolMiB: number;
  /** The largest tables, data and secondary indexes (InnoDB's estimate), for the findings. */
  tableSizes: string;
  othersCpu: number;
  postings: number;
}

export const scenario: Scenario = {
  id: 'indexer-mariadb',
  title: 'Indexer: Kafka backlog → MariaDB series index (1,000-series windows)',
  needs: ['kafka', 'mariadb'],
  async run(ctx) {
    const n = ctx.quick ? 20_000 : 200_000;
    ctx.log(`indexer-mariadb: encoding ${n.toLocaleString('en')} series events`);
    const time = Date.now();
    const series = syntheticSeriesRange(0, n, { salt: 'indexer-bench', time });
    // As the ingest role writes them: a batch per request of 500 new series, a record per partition.
    const events: EncodedEvents[] = [];
    for (let i = 0; i < n; i += SERIES_PER_REQUEST) {
      const part = series.slice(i, i + SERIES_PER_REQUEST);
      events.push(...encodeSeriesBatch({ series: part, metadata: [], receivedAt: time, counts: { samples: part.length, histograms: 0, exemplars: 0 } }, 'bench', PARTITIONS));
    }
    const runs: RunResult[] = [];
    for (let r = 0; r < ctx.runs; r++) {
      runs.push(await indexOnce(events));
      const last = runs[runs.length - 1];
      ctx.log(`indexer-mariadb run ${r + 1}/${ctx.runs}: ${Math.round(last.seriesPerSecond).toLocaleString('en')} series/s, ${last.windows} windows of ${last.windowMs.toFixed(0)} ms on average`);
    }
    const pick = (f: (r: RunResult) => number) => runs.map(f);
    const result: ScenarioResult = {
      id: this.id,
      title: this.title,
      figures: {
        series_per_second: figure(pick((r) => r.seriesPerSecond), 'series/s', {
          target: { op: '>=', value: TARGET },
          note: `${n.toLocaleString('en')} new series (${(runs[0].postings / n).toFixed(2)} label posting chunk rows per series), first decoded batch to last offset commit`,
        }),
        series_per_second_from_ready: figure(pick((r) => r.fromReadyPerSecond), 'series/s', { note: 'the same, timed from /-/ready (consumer group join included)' }),
        windows: figure(pick((r) => r.windows), 'windows', { note: 'series_index batches (transactions) written' }),
        window_ms: figure(pick((r) => r.windowMs), 'ms', { note: 'average series_index time per window, retries included (4 windows at a time)' }),
        weir_cpu_percent: figure(pick((r) => r.weirCpu), '% of a core', { note: 'weir process CPU over the measured interval' }),
        mariadb_cpu_percent: figure(pick((r) => r.mariadbCpu), '% of a core', { note: 'mariadbd CPU over the measured interval' }),
        weir_cpu_ms_per_1000_series: figure(pick((r) => r.weirCpuMsPer1000), 'ms', { note: 'weir CPU per 1,000 series over the measured interval (steadier than rates on a shared machine)' }),
        mariadb_cpu_ms_per_1000_series: figure(pick((r) => r.mariadbCpuMsPer1000), 'ms', { note: 'mariadbd CPU per 1,000 series over the measured interval' }),
        kafka_cpu_percent: figure(pick((r) => r.kafkaCpu), '% of a core', { note: 'the Kafka broker over the measured interval' }),
        machine_busy_percent: figure(pick((r) => r.machineBusy), '%', { note: `busy share of all ${availableParallelism()} cores over the measured interval` }),
        others_cpu_percent: figure(pick((r) => r.othersCpu), '% of a core', { note: 'CPU of everything but weir, MariaDB, Kafka, Redis and the bench: other work on the shared machine' }),
        iowait_percent: figure(pick((r) => r.iowait), '%', { note: 'share of all cores idle waiting for disk I/O over the measured interval' }),
        index_mib: figure(pick((r) => r.indexMiB), 'MiB', { note: `the index database's data and indexes after the run (InnoDB estimate; buffer pool ${runs[0].bufferPoolMiB.toFixed(0)} MiB)` }),
      },
    };
    // Quarters are only meaningful with many windows per quarter (they commit in bursts of up to 4).
    const quartersMeaningful = Math.min(...pick((r) => r.windows)) >= 40;
    if (quartersMeaningful) {
      result.figures.series_per_second_first_quarter = figure(pick((r) => r.firstQuarterPerSecond), 'series/s', { note: 'the rate over the first quarter of the series (a nearly empty index)' });
      result.figures.series_per_second_last_quarter = figure(pick((r) => r.lastQuarterPerSecond), 'series/s', { note: 'the rate over the last quarter (the index at three quarters of its final size)' });
    }
    const rate = result.figures.series_per_second.value;
    if (rate < TARGET) {
      const window = median(pick((r) => r.windowMs));
      const perWindow = n / median(pick((r) => r.windows));
      const retries = median(pick((r) => r.retries));
      const weirCpu = median(pick((r) => r.weirCpu));
      const mariadbCpu = median(pick((r) => r.mariadbCpu));
      const busy = median(pick((r) => r.machineBusy));
      const others = median(pick((r) => r.othersCpu));
      const iowait = median(pick((r) => r.iowait));
      const indexMiB = median(pick((r) => r.indexMiB));
      const bufferPool = runs[0].bufferPoolMiB;
      const cores = availableParallelism();
      result.findings = [
        `series_per_second ${Math.round(rate).toLocaleString('en')} is ${((100 * rate) / TARGET).toFixed(0)}% of the ${TARGET.toLocaleString('en')} target (${(TARGET / rate).toFixed(1)}× short). ` +
          `A window (${Math.round(perWindow).toLocaleString('en')} series on average${perWindow > 1000 ? ': a Kafka batch is never split, so windows pass 1,000' : ''}) spends ${window.toFixed(0)} ms in series_index, ` +
          `${Math.round((1000 * perWindow) / window).toLocaleString('en')} series/s per transaction, up to 4 at a time; ${retries} retries per run. ` +
          (quartersMeaningful
            ? `The rate goes from ${Math.round(median(pick((r) => r.firstQuarterPerSecond))).toLocaleString('en')} series/s over the first quarter to ${Math.round(median(pick((r) => r.lastQuarterPerSecond))).toLocaleString('en')} over the last, `
            : 'At the end ') +
          `the database holds ${indexMiB.toFixed(0)} MiB (InnoDB estimate: ${runs[0].tableSizes}) against a ${bufferPool.toFixed(0)} MiB buffer pool. ` +
          `The machine was ${busy.toFixed(0)}% busy (${cores} cores): mariadbd ${mariadbCpu.toFixed(0)}%, weir ${weirCpu.toFixed(0)}%, Kafka ${median(pick((r) => r.kafkaCpu)).toFixed(0)}%, ` +
          `other work on the machine ${others.toFixed(0)}% of a core; I/O wait ${iowait.toFixed(0)}% of the machine. ` +
          (weirCpu >= 85
            ? "Weir's one event loop is close to a full core: decoding and preparing the windows limit it as much as the database does. "
            : `Weir is not the limit; MariaDB is${busy >= 85 ? `, on a saturated machine${others > mariadbCpu ? ' (mostly with other work: a pessimistic run)' : ''}` : ''}. `) +
          (indexMiB > bufferPool
            ? `Once the index outgrows the buffer pool, the inserts at random hashes into series need pages from disk (I/O wait ${iowait.toFixed(0)}%), hence the falling rate. `
            : '') +
          'Each window inserts its series (one row each), one label_postings chunk per distinct label pair of its new series, and upserts label_values/label_names for the pairs it carries; ' +
          'bench/mysql-index-write.ts, the write path alone without Kafka, measures series/s and the CPU seconds of mariadbd and of the writer per 1,000 series, against a bare one-table upsert. ' +
          'Compare CPU per series, not rates, on a shared machine.',
      ];
    }
    if (ctx.profileDir) {
      // One extra run under the profiler (slower, so not in the figures); only its measured interval is summarized.
      const profiled: Profiled = { dir: resolve(ctx.profileDir) };
      mkdirSync(profiled.dir, { recursive: true });
      const before = new Set(readdirSync(profiled.dir));
      const run = await indexOnce(events, profiled);
      const file = readdirSync(profiled.dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
      const profileLines = file
        ? [
            `profile: ${relative(REPO_ROOT, join(profiled.dir, file))}, the measured ${(n / run.seriesPerSecond).toFixed(1)} s of one extra run under --cpu-prof (${Math.round(run.seriesPerSecond).toLocaleString('en')} series/s, weir ${run.weirCpuMsPer1000.toFixed(1)} CPU ms per 1,000 series with the profiler)`,
            ...profileFindings(summarizeProfileFile(join(profiled.dir, file), 20, profiled.window), 20, 10),
          ]
        : [`profile: no new .cpuprofile appeared in ${profiled.dir} (did weir exit cleanly?)`];
      ctx.log(profileLines.join('\n'));
      result.findings = [...(result.findings ?? []), ...profileLines];
    }
    return result;
  },
};

/** Where the profile of an extra run under `--cpu-prof` went, and its measured interval (monotonic µs). */
interface Profiled {
  dir: string;
  window?: ProfileWindow;
}

async function indexOnce(events: EncodedEvents[], profiled?: Profiled): Promise<RunResult> {
  const n = events.reduce((sum, e) => sum + e.series, 0);
  const records = events.length;
  const scratch = await createScratch('index');
  let weir: ChildWeir | undefined;
  try {
    await fill(scratch.topic, events);
    const spawned = Date.now();
    weir = await startChildWeir({
      topology: 'topology/indexer.yaml',
      env: scratch.env,
      nodeArgs: profiled ? ['--cpu-prof', `--cpu-prof-dir=${profiled.dir}`] : [],
    });
    const ready = performance.now();
    const deadline = Date.now() + Math.max(180_000, n / 500);
    const check = (committed: number) => {
      if (Date.now() > deadline) throw new Error(`indexer-mariadb: ${committed} of ${records} records committed after ${((Date.now() - spawned) / 1000).toFixed(0)} s:\n${weir!.output()}`);
      if (weir!.exited() !== undefined) throw new Error(`indexer-mariadb: weir exited (${weir!.exited()}):\n${weir!.output()}`);
    };
    // The clock starts when the first fetched batch has been decoded: the group join before it is not the indexer's speed.
    const decoded = async () => {
      const metrics = await fetch(`${weir!.url}/metrics`).then((res) => res.text(), () => ''); // a dead child is reported by check()
      return scrapeValue(metrics, 'weir_stage_duration_seconds_count', { pipeline: 'index', type: 'decode_series_events' });
    };
    while ((await decoded()) === 0) {
      check(0);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const started = { at: performance.now(), cpu: cpuMeter({ weir: weir.pid, ...servicePids(), bench: process.pid }), us: monotonicUs() };
    let committed = 0;
    /** When the committed offsets first covered a quarter, half, three quarters of the records (as many series, near enough). */
    const quarters: number[] = [];
    while (committed < records) {
      check(committed);
      await new Promise((resolve) => setTimeout(resolve, 50));
      committed = await scratch.committed();
      while (quarters.length < 3 && committed >= ((quarters.length + 1) * records) / 4) quarters.push(performance.now());
    }
    const done = performance.now();
    if (profiled) profiled.window = { fromUs: started.us, toUs: monotonicUs() };
    const seconds = (done - started.at) / 1000;
    const cpu = started.cpu();
    const metrics = await (await fetch(`${weir.url}/metrics`)).text();
    const sink = { pipeline: 'index', type: 'series_index' };
    const windows = scrapeValue(metrics, 'weir_stage_duration_seconds_count', sink);
    const windowSeconds = scrapeValue(metrics, 'weir_stage_duration_seconds_sum', sink);
    const retries = scrapeValue(metrics, 'weir_stage_retries_total', sink);
    const [{ stored }] = await scratch.query<{ stored: number }>('SELECT COUNT(*) AS stored FROM series');
    if (Number(stored) !== n) throw new Error(`indexer-mariadb: offsets committed for ${n} series but the series table holds ${stored}`);
    // Chunk rows: one per label pair per window that brought new series with it.
    const [{ postings }] = await scratch.query<{ postings: number }>('SELECT COUNT(*) AS postings FROM label_postings');
    await scratch.query('ANALYZE TABLE series, label_postings, label_names, label_values'); // fresh size estimates
    const tables = await scratch.query<{ name: string; data: number; secondary: number; bufferPool: number }>(
      `SELECT table_name AS name, data_length AS data, index_length AS secondary, @@innodb_buffer_pool_size AS bufferPool
       FROM information_schema.tables WHERE table_schema = '${scratch.database}' ORDER BY data_length + index_length DESC`,
    );
    const mib = (bytes: number) => (Number(bytes) / 2 ** 20).toFixed(0);
    const size = tables.reduce((sum, t) => sum + Number(t.data) + Number(t.secondary), 0);
    const bufferPool = tables[0]?.bufferPool ?? 0;
    const tableSizes = tables.slice(0, 3).map((t) => `${t.name} ${mib(t.data)} MiB + ${mib(t.secondary)} MiB secondary indexes`).join(', ');
    return {
      seriesPerSecond: n / seconds,
      firstQuarterPerSecond: n / 4 / ((quarters[0] - started.at) / 1000),
      lastQuarterPerSecond: n / 4 / ((done - quarters[2]) / 1000),
      fromReadyPerSecond: n / ((done - ready) / 1000),
      windows,
      windowMs: (1000 * windowSeconds) / Math.max(1, windows),
      retries,
      weirCpu: cpu.processes.weir,
      mariadbCpu: cpu.processes.mariadb,
      weirCpuMsPer1000: (10 * cpu.processes.weir * seconds) / (n / 1000),
      mariadbCpuMsPer1000: (10 * cpu.processes.mariadb * seconds) / (n / 1000),
      machineBusy: cpu.machineBusy,
      kafkaCpu: cpu.processes.kafka,
      iowait: cpu.machineIowait,
      indexMiB: Number(size) / 2 ** 20,
      bufferPoolMiB: Number(bufferPool) / 2 ** 20,
      tableSizes,
      othersCpu: cpu.others,
      postings: Number(postings),
    };
  } finally {
    await weir?.stop();
    await scratch.cleanup();
  }
}

/** Creates the topic and produces every record to its partition. */
async function fill(topic: string, events: EncodedEvents[]): Promise<void> {
  const kafka = createKafkaClient({ adapter: 'kafkajs', brokers: serviceUrls().kafkaBrokers.split(','), clientId: 'weir-bench', logLevel: 'nothing' });
  const admin = kafka.admin();
  const producer = kafka.producer();
  try {
    await admin.createTopic(topic, { partitions: PARTITIONS });
    for (let i = 0; i < events.length; i += 1000) await producer.send(topic, events.slice(i, i + 1000).map((e) => ({ key: null, value: e.value, partition: e.partition })));
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : quick ? 1 : 3;
  const profileAt = process.argv.indexOf('--profile');
  const profileDir = profileAt > 0 ? (process.argv[profileAt + 1] ?? 'bench/results/profiles') : undefined;
  await buildWeir();
  const result = await scenario.run({ runs, quick, corpusDir: corpusDir(), log: (m) => console.error(m), profileDir });
  console.log(JSON.stringify(result, null, 2));
}
