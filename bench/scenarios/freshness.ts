/**
 * freshness: how long after a sender posts a new series can it be found through /api/v1/series?
 * Weir runs topology/production.yaml (ingest and indexer in one process) on a fresh topic, group,
 * database and Redis prefix. The bench posts remote-write 1.0 requests of 500 new series at a
 * steady 20 requests/s (10,000 new series/s), open loop: a request goes out on schedule whether or
 * not earlier ones were answered. One series of each request carries a metric name of its own (a
 * probe); a poller asks for every probe not yet seen in one /api/v1/series request every 50 ms
 * (one regex selector: two small queries per poll, however many probes are pending).
 * Freshness = the answer that first lists the probe - the moment its request was sent. Before the
 * clock starts, one warm-up request is followed through, so the consumer group join is not counted.
 *
 *   npx tsx bench/scenarios/freshness.ts [--quick] [--runs n]
 */
import { corpusDir } from '../../test/support/corpus.js';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { buildWeir, cpuMeter, createScratch, scrapeValue, servicePids, startChildWeir, type ChildWeir } from '../lib/child-weir.js';
import { figure, median, type Scenario, type ScenarioResult } from '../lib/scenario.js';
import { remoteWriteBody, syntheticLabels } from '../lib/synthetic-series.js';
import type { Label } from '../../src/remote-write/types.js';

const SERIES_PER_REQUEST = 500;
const REQUESTS_PER_SECOND = 20;
const POLL_INTERVAL_MS = 50;
/** Requests allowed unanswered at once; past it the sender falls behind schedule (and says so). */
const MAX_IN_FLIGHT = 64;
/** How long to wait, after the last request, for the probes still missing. */
const SETTLE_MS = 30_000;
const TARGET_P99_MS = 2_000;
const HEADERS = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };

interface Probe {
  metric: string;
  body: Uint8Array;
  sentAt?: number;
  answeredAt?: number;
  status?: number;
  visibleAt?: number;
}

interface RunResult {
  p50: number;
  p99: number;
  max: number;
  ackP50: number;
  ackP99: number;
  newSeriesPerSecond: number;
  probes: number;
  missing: number;
  failed: number;
  /** Largest delay of a send behind its schedule (ms). */
  behind: number;
  /** Series the indexer committed while the requests went out, per second. */
  indexedPerSecond: number;
  /** Of the windows written while sending: series each, and ms each in series_index. */
  windowSeries: number;
  windowMs: number;
  /** Time of the freshness poller's /api/v1/series requests. */
  pollP50: number;
  pollMax: number;
  weirCpu: number;
  mariadbCpu: number;
  machineBusy: number;
  kafkaCpu: number;
  othersCpu: number;
  iowait: number;
}

export const scenario: Scenario = {
  id: 'freshness',
  title: 'Freshness: new series searchable through /api/v1/series (production topology, 10,000 new series/s)',
  needs: ['kafka', 'redis', 'mariadb'],
  async run(ctx) {
    const seconds = ctx.quick ? 5 : 20;
    const runs: RunResult[] = [];
    for (let r = 0; r < ctx.runs; r++) {
      const run = await freshnessOnce(seconds);
      runs.push(run);
      ctx.log(
        `freshness run ${r + 1}/${ctx.runs}: p50 ${run.p50.toFixed(0)} ms, p99 ${run.p99.toFixed(0)} ms over ${run.probes} probes, ` +
          `${Math.round(run.newSeriesPerSecond).toLocaleString('en')} new series/s, ${run.failed} failed requests, ${run.missing} probes never seen`,
      );
    }
    const pick = (f: (r: RunResult) => number) => runs.map(f);
    const unseen = Math.max(...pick((r) => r.missing));
    const result: ScenarioResult = {
      id: this.id,
      title: this.title,
      figures: {
        freshness_p50_ms: figure(pick((r) => r.p50), 'ms', { note: `send → listed by /api/v1/series, one probe series per request, ${seconds} s at ${REQUESTS_PER_SECOND} requests/s of ${SERIES_PER_REQUEST} new series` }),
        freshness_p99_ms: figure(pick((r) => r.p99), 'ms', {
          target: { op: '<=', value: TARGET_P99_MS },
          note: `the same, 99th percentile (nearest rank)${unseen > 0 ? `; a lower bound: up to ${unseen} probes per run were not listed ${SETTLE_MS / 1000} s after sending ended` : ''}`,
        }),
        freshness_max_ms: figure(pick((r) => r.max), 'ms'),
        new_series_per_second: figure(pick((r) => r.newSeriesPerSecond), 'series/s', { note: `series of requests answered 204, over the sending time (offered: ${(SERIES_PER_REQUEST * REQUESTS_PER_SECOND).toLocaleString('en')}/s)` }),
        indexed_series_per_second: figure(pick((r) => r.indexedPerSecond), 'series/s', { note: 'series the indexer committed while the requests went out' }),
        window_series: figure(pick((r) => r.windowSeries), 'series', { note: 'series per index window (transaction) while sending' }),
        window_ms: figure(pick((r) => r.windowMs), 'ms', { note: 'series_index time per window while sending, retries included' }),
        poll_p50_ms: figure(pick((r) => r.pollP50), 'ms', { note: "the poller's /api/v1/series request (one regex selector over the probes pending)" }),
        poll_max_ms: figure(pick((r) => r.pollMax), 'ms'),
        write_ack_p50_ms: figure(pick((r) => r.ackP50), 'ms', { note: 'remote-write answer time (204 after Kafka acknowledged)' }),
        write_ack_p99_ms: figure(pick((r) => r.ackP99), 'ms'),
        weir_cpu_percent: figure(pick((r) => r.weirCpu), '% of a core', { note: 'weir (both roles) while sending' }),
        mariadb_cpu_percent: figure(pick((r) => r.mariadbCpu), '% of a core', { note: 'mariadbd while sending' }),
        kafka_cpu_percent: figure(pick((r) => r.kafkaCpu), '% of a core', { note: 'the Kafka broker while sending' }),
        machine_busy_percent: figure(pick((r) => r.machineBusy), '%', { note: `busy share of all ${availableParallelism()} cores while sending` }),
        others_cpu_percent: figure(pick((r) => r.othersCpu), '% of a core', { note: 'CPU of everything but weir, MariaDB, Kafka, Redis and this load generator: other work on the shared machine' }),
        iowait_percent: figure(pick((r) => r.iowait), '%', { note: 'share of all cores idle waiting for disk I/O while sending' }),
      },
    };
    const findings: string[] = [];
    const p99 = result.figures.freshness_p99_ms.value;
    const rate = result.figures.new_series_per_second.value;
    const offered = SERIES_PER_REQUEST * REQUESTS_PER_SECOND;
    if (p99 > TARGET_P99_MS || rate < 0.95 * offered) {
      const f = result.figures;
      const indexed = f.indexed_series_per_second.value;
      const weirCpu = f.weir_cpu_percent.value;
      findings.push(
        `freshness p99 ${p99.toFixed(0)} ms against a target of ${TARGET_P99_MS} ms${p99 > TARGET_P99_MS ? ` (${(p99 / TARGET_P99_MS).toFixed(1)}× over)` : ''}, ` +
          `with ${Math.round(rate).toLocaleString('en')} of the ${offered.toLocaleString('en')} new series/s offered accepted. ` +
          `The write answer takes ${f.write_ack_p99_ms.value.toFixed(0)} ms at p99; the rest is Kafka → window → MariaDB, and the indexer committed only ${Math.round(indexed).toLocaleString('en')} series/s meanwhile` +
          `${indexed < 0.95 * rate ? ', below the accepted rate: the backlog, and with it freshness, grows for as long as the load lasts (p50 and p99 are then set by the run length, not by a fixed delay)' : ''}. ` +
          `Index windows of ${f.window_series.value.toFixed(0)} series spent ${f.window_ms.value.toFixed(0)} ms each in series_index while mariadbd used ${f.mariadb_cpu_percent.value.toFixed(0)}% of a core. ` +
          `The machine was ${f.machine_busy_percent.value.toFixed(0)}% busy (${availableParallelism()} cores; I/O wait ${f.iowait_percent.value.toFixed(0)}%): weir ${weirCpu.toFixed(0)}%, ` +
          `Kafka ${f.kafka_cpu_percent.value.toFixed(0)}%, other work on the machine ${f.others_cpu_percent.value.toFixed(0)}% of a core. ` +
          (weirCpu >= 85
            ? "Weir's single event loop is near a full core, shared by both roles here: ingest (decode, canonicalize, dedup, Kafka produce) takes CPU the indexer then lacks; running the roles apart (topology/ingest.yaml + indexer.yaml) gives each its own core."
            : f.machine_busy_percent.value >= 85
              ? `Weir is not saturated but the machine is${f.others_cpu_percent.value >= 30 ? ', partly with other work' : ''}: the window transactions likely spend more time waiting, for CPU and for the label_values/label_names rows every window updates (locked until commit), than MariaDB spends executing them; ` +
                "ingest, which shares weir's event loop, keeps most of weir's CPU."
              : 'Neither weir nor the machine is saturated: the index writes wait on MariaDB (see indexer-mariadb).'),
      );
    }
    const missing = median(pick((r) => r.missing));
    const failed = median(pick((r) => r.failed));
    const behind = Math.max(...pick((r) => r.behind));
    if (missing > 0) findings.push(`${missing} probes per run were not listed within ${SETTLE_MS / 1000} s after the last request; they count as ${SETTLE_MS / 1000} s + their send offset (a lower bound).`);
    if (failed > 0) findings.push(`${failed} requests per run were not answered 204 (shed or failed); their probes are left out.`);
    if (behind > 100) findings.push(`the sender fell up to ${behind.toFixed(0)} ms behind schedule (${MAX_IN_FLIGHT} requests unanswered at once): the offered rate was not fully held.`);
    if (findings.length > 0) result.findings = findings;
    return result;
  },
};

async function freshnessOnce(seconds: number): Promise<RunResult> {
  const scratch = await createScratch('fresh');
  let weir: ChildWeir | undefined;
  try {
    const requests = seconds * REQUESTS_PER_SECOND;
    const probes = buildRequests(requests + 1, scratch.database);
    weir = await startChildWeir({ topology: 'topology/production.yaml', env: scratch.env });
    const url = weir.url;

    // Warm-up: one request followed through, so the group join and first connections are behind us.
    const warmup = probes.shift()!;
    const res = await post(url, warmup.body);
    if (res !== 204) throw new Error(`freshness: warm-up write answered ${res}:\n${weir.output()}`);
    const warmDeadline = Date.now() + 90_000;
    while (!(await listed(url, [warmup.metric])).has(warmup.metric)) {
      if (Date.now() > warmDeadline) throw new Error(`freshness: the warm-up series was not indexed within 90 s:\n${weir.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const cpu = cpuMeter({ weir: weir.pid, ...servicePids(), bench: process.pid });
    const windowsBefore = await indexWindows(url);
    // Rows of the series table: records carry many series each, so committed offsets would not tell.
    const seriesRows = async () => Number((await scratch.query<{ n: number }>('SELECT COUNT(*) AS n FROM series'))[0].n);
    const indexedBefore = await seriesRows();
    const t0 = performance.now();
    let sending = true;
    let behind = 0;
    let pollFailure: unknown;
    // Caught at once: a rejection left pending while requests go out would end the process before `finally` cleans up.
    const poller = poll(url, probes, () => sending).catch((err: unknown) => {
      pollFailure = err;
      return [] as number[];
    });
    const inFlight = new Set<Promise<void>>();
    for (let r = 0; r < probes.length && pollFailure === undefined; r++) {
      const due = t0 + (r * 1000) / REQUESTS_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      behind = Math.max(behind, performance.now() - due);
      const probe = probes[r];
      probe.sentAt = performance.now();
      const sent = post(url, probe.body).then(
        (status) => {
          probe.status = status;
          probe.answeredAt = performance.now();
        },
        () => {
          probe.status = 0;
          probe.answeredAt = performance.now();
        },
      );
      inFlight.add(sent);
      void sent.then(() => inFlight.delete(sent));
    }
    await Promise.all(inFlight);
    const sendEnd = performance.now();
    const used = cpu();
    const indexed = (await seriesRows()) - indexedBefore;
    sending = false;
    if (pollFailure !== undefined) throw new Error(`freshness: polling /api/v1/series failed (weir ${weir.exited() === undefined ? 'running' : `exited: ${weir.exited()}`}):\n${weir.output()}`, { cause: pollFailure });
    const windows = await indexWindows(url);
    const pollMs = (await poller).sort((a, b) => a - b);

    const accepted = probes.filter((p) => p.status === 204);
    const lastAnswer = Math.max(...probes.map((p) => p.answeredAt!));
    const freshness = accepted.map((p) => (p.visibleAt ?? lastAnswer + SETTLE_MS) - p.sentAt!).sort((a, b) => a - b);
    const acks = probes.map((p) => p.answeredAt! - p.sentAt!).sort((a, b) => a - b);
    return {
      p50: percentile(freshness, 0.5),
      p99: percentile(freshness, 0.99),
      max: freshness[freshness.length - 1] ?? NaN,
      ackP50: percentile(acks, 0.5),
      ackP99: percentile(acks, 0.99),
      newSeriesPerSecond: (accepted.length * SERIES_PER_REQUEST) / ((lastAnswer - t0) / 1000),
      probes: accepted.length,
      missing: accepted.filter((p) => p.visibleAt === undefined).length,
      failed: probes.length - accepted.length,
      behind,
      indexedPerSecond: indexed / ((sendEnd - t0) / 1000),
      windowSeries: indexed / Math.max(1, windows.count - windowsBefore.count),
      windowMs: (1000 * (windows.seconds - windowsBefore.seconds)) / Math.max(1, windows.count - windowsBefore.count),
      pollP50: percentile(pollMs, 0.5),
      pollMax: pollMs[pollMs.length - 1] ?? NaN,
      weirCpu: used.processes.weir,
      mariadbCpu: used.processes.mariadb,
      machineBusy: used.machineBusy,
      kafkaCpu: used.processes.kafka,
      othersCpu: used.others,
      iowait: used.machineIowait,
    };
  } finally {
    await weir?.stop();
    await scratch.cleanup();
  }
}

/**
 * Request r: 499 series of the synthetic fleet (targets no other request uses) and one probe, a
 * series of the same target with a metric name of its own. Encoded up front, so sending costs only I/O.
 */
function buildRequests(count: number, salt: string): Probe[] {
  const timestamp = Date.now();
  return Array.from({ length: count }, (_, r) => {
    const first = r * SERIES_PER_REQUEST;
    const labelSets: Label[][] = Array.from({ length: SERIES_PER_REQUEST - 1 }, (_, k) => syntheticLabels(first + k, salt));
    const metric = `bench_freshness_probe_${r}`;
    labelSets.push(syntheticLabels(first, salt).map((l) => (l.name === '__name__' ? { name: l.name, value: metric } : l)));
    return { metric, body: remoteWriteBody(labelSets, timestamp) };
  });
}

async function post(url: string, body: Uint8Array): Promise<number> {
  const res = await fetch(`${url}/api/v1/write`, { method: 'POST', body, headers: HEADERS });
  await res.arrayBuffer();
  return res.status;
}

/**
 * The metric names among `metrics` that /api/v1/series lists now. One regex selector, whatever the
 * number of names: the index resolves a regex on `__name__` against its metric names in one query,
 * where one `=` selector per name would cost a query each (and load MariaDB as much as the indexer).
 */
async function listed(url: string, metrics: string[]): Promise<Set<string>> {
  const form = new URLSearchParams({ 'match[]': `{__name__=~"${metrics.join('|')}"}` });
  const res = await fetch(`${url}/api/v1/series`, { method: 'POST', body: form });
  if (res.status !== 200) throw new Error(`/api/v1/series answered ${res.status}: ${await res.text()}`);
  const { data } = (await res.json()) as { data: Array<Record<string, string>> };
  return new Set(data.map((s) => s.__name__));
}

/** Every POLL_INTERVAL_MS, one query for all probes sent and not yet seen; until all are seen or SETTLE_MS after sending ends. */
async function poll(url: string, probes: Probe[], sending: () => boolean): Promise<number[]> {
  const took: number[] = [];
  let settleDeadline: number | undefined;
  for (;;) {
    const started = performance.now();
    const pending = probes.filter((p) => p.sentAt !== undefined && p.visibleAt === undefined && p.status !== 0 && (p.status === undefined || p.status === 204));
    if (pending.length > 0) {
      const seen = await listed(url, pending.slice(0, 500).map((p) => p.metric));
      const at = performance.now();
      took.push(at - started);
      for (const p of pending) if (seen.has(p.metric)) p.visibleAt = at;
    }
    if (!sending()) {
      settleDeadline ??= performance.now() + SETTLE_MS;
      const left = probes.some((p) => p.status === 204 && p.visibleAt === undefined);
      if (!left || performance.now() > settleDeadline) return took;
    }
    const wait = POLL_INTERVAL_MS - (performance.now() - started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Windows the index pipeline's series_index step has finished, and the seconds it spent on them. */
async function indexWindows(url: string): Promise<{ count: number; seconds: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sink = { pipeline: 'index', type: 'series_index' };
  return { count: scrapeValue(text, 'weir_stage_duration_seconds_count', sink), seconds: scrapeValue(text, 'weir_stage_duration_seconds_sum', sink) };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : quick ? 1 : 3;
  await buildWeir();
  const result = await scenario.run({ runs, quick, corpusDir: corpusDir(), log: (m) => console.error(m) });
  console.log(JSON.stringify(result, null, 2));
}
