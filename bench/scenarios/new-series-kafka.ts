/**
 * new-series-kafka: how many new series per second does the ingest role (topology/ingest.yaml)
 * acknowledge into Kafka? Every series of every request is new (500 per request, synthetic label
 * sets of a scraped fleet), so each one passes both dedup tiers, is produced with acks=all, and
 * is then marked seen in process and in Redis. Each run gets a fresh weir, topic (8 partitions)
 * and Redis prefix, so the same pre-encoded bodies are new to every run. Beside weir's CPU, the
 * run's CPU of the Kafka broker, Redis and the load generator is reported: all share the cores.
 */
import { availableParallelism } from 'node:os';
import { cpuMeter, servicePids, type CpuReading } from '../lib/child-weir.js';
import { createIngestScratch, type IngestScratch } from '../lib/ingest-scratch.js';
import { okShare } from '../lib/loadgen.js';
import { profiledRun } from '../lib/profile-run.js';
import { figure, type Scenario } from '../lib/scenario.js';
import { startWeir, type RunningServer } from '../lib/servers.js';
import { addStageTimes, describeStageTimes, scrapeStageTimes, stageTimesBetween, type StageTimes } from '../lib/stage-times.js';
import { describeRun, measureOnce, runFindings, warmUp, type RunMeasurement } from '../lib/steady.js';
import { syntheticPayloads } from '../lib/synthetic.js';

const TOPOLOGY = 'topology/ingest.yaml';
const TARGET = 150_000;
const SERIES_PER_REQUEST = 500;
const PARTITIONS = 8;
/**
 * Requests in flight: a Prometheus under load sends on up to 50 shards at once (queue_config
 * max_shards' default), one request each. The ingest topology looks up 32 batches in Redis and
 * produces 16 to Kafka at a time.
 */
const CONCURRENCY = 32;
/** Bodies for twice the target rate: a faster weir ends the run early, and the rate still holds. */
const POOL_HEADROOM = 2;

/** A fresh topic and Redis prefix for `work`, removed after it. */
async function withScratch<T>(work: (scratch: IngestScratch) => Promise<T>): Promise<T> {
  const scratch = await createIngestScratch('new-series', PARTITIONS);
  try {
    return await work(scratch);
  } finally {
    await scratch.cleanup();
  }
}

export const scenario: Scenario = {
  id: 'new-series-kafka',
  title: `Ingest topology, every series new: ${SERIES_PER_REQUEST} new series per request acknowledged into Kafka`,
  needs: ['kafka', 'redis'],
  async run(ctx) {
    const durationMs = ctx.quick ? 3_000 : 10_000;
    const bodies = Math.ceil((TARGET * POOL_HEADROOM * durationMs) / 1000 / SERIES_PER_REQUEST);
    const encodeStarted = performance.now();
    const payloads = syntheticPayloads({ series: 0, perRequest: SERIES_PER_REQUEST, newShare: 1, requests: bodies, version: '1.0', salt: 'new-series' });
    // Warm-up series are of another salt, so none of them is among the measured ones.
    const warm = syntheticPayloads({ series: 0, perRequest: SERIES_PER_REQUEST, newShare: 1, requests: 100, version: '1.0', salt: 'new-series-warm-up' });
    ctx.log(`new-series-kafka: ${bodies} bodies of ${SERIES_PER_REQUEST} new series encoded in ${((performance.now() - encodeStarted) / 1000).toFixed(1)} s`);

    const measure = (weir: RunningServer) => measureOnce(weir, { payloads, durationMs, concurrency: CONCURRENCY, cycle: false });
    const runs: RunMeasurement[] = [];
    const cpus: CpuReading[] = [];
    const findings: string[] = [];
    const stages: StageTimes = new Map();
    for (let r = 1; r <= ctx.runs; r++) {
      await withScratch(async (scratch) => {
        const weir = await startWeir({ topology: TOPOLOGY, env: scratch.env });
        try {
          const warmed = await warmUp(weir, warm, CONCURRENCY);
          const stagesBefore = await scrapeStageTimes(weir.baseUrl);
          const cpu = cpuMeter({ weir: weir.pid, ...servicePids(), loadgen: process.pid });
          const measured = await measure(weir);
          cpus.push(cpu());
          addStageTimes(stages, stageTimesBetween(stagesBefore, await scrapeStageTimes(weir.baseUrl)));
          runs.push(measured);
          ctx.log(`new-series-kafka run ${r}/${ctx.runs}: ${describeRun(measured).replaceAll('samples', 'series')}`);
          // Every new series (the synthetic bodies carry no metadata) must be in the topic: read it back.
          const records = await scratch.records();
          const inKafka = (await scratch.series()) - warmed.acceptedSeries;
          if (inKafka < measured.load.acceptedSeries) findings.push(`run ${r}: only ${inKafka} series in Kafka for ${measured.load.acceptedSeries} acknowledged`);
          else findings.push(`run ${r}: Kafka holds ${inKafka} series (read back, hashes checked) in ${records} records for ${measured.load.acceptedSeries} series acknowledged`);
          if (measured.load.requests === payloads.length && okShare(measured.load) === 1) findings.push(`run ${r}: all ${bodies} bodies sent before the time was up (faster than ${POOL_HEADROOM}× the target)`);
        } finally {
          await weir.stop();
        }
      });
    }

    const of = (pick: (m: RunMeasurement) => number) => runs.map(pick);
    const figures = {
      new_series_per_second: figure(of((m) => m.seriesPerSecond), 'series/s', {
        target: { op: '>=', value: TARGET },
        note: 'new series answered 204 (Kafka acks=all) per wall second, load generator on the same machine',
      }),
      new_series_per_cpu_second: figure(of((m) => m.seriesPerCpuSecond), 'series/CPU-s', { note: "per CPU-second of weir's process" }),
      latency_p50_ms: figure(of((m) => m.latencyP50Ms), 'ms'),
      latency_p99_ms: figure(of((m) => m.latencyP99Ms), 'ms'),
      peak_rss_mib: figure(of((m) => m.peakRssMiB), 'MiB', { note: 'VmHWM over the run (reset at its start)' }),
      weir_cpu_percent: figure(cpus.map((c) => c.processes.weir), '% of a core', { note: 'weir while sending (all its threads: librdkafka too)' }),
      kafka_cpu_percent: figure(cpus.map((c) => c.processes.kafka ?? 0), '% of a core', { note: 'the Kafka broker while sending' }),
      redis_cpu_percent: figure(cpus.map((c) => c.processes.redis ?? 0), '% of a core', { note: 'redis-server while sending' }),
      loadgen_cpu_percent: figure(cpus.map((c) => c.processes.loadgen), '% of a core', { note: 'the load generator (the bench process) while sending' }),
      machine_busy_percent: figure(cpus.map((c) => c.machineBusy), '%', { note: `busy share of all ${availableParallelism()} cores while sending` }),
      others_cpu_percent: figure(cpus.map((c) => c.others), '% of a core', { note: 'everything else on the machine while sending' }),
    };
    const rate = figures.new_series_per_second.value;
    if (rate < TARGET) {
      // Per CPU-second, the rate says whether more wall time alone (fewer neighbours on the cores) could reach the target.
      const perCpu = figures.new_series_per_cpu_second.value;
      // Where the cores went, per new series: all of these processes share the machine's cores.
      const perSeries = (percent: number) => ((percent / 100) * 1e6) / rate;
      const share = (name: string, percent: number) => `${name} ${percent.toFixed(0)}% of a core (${perSeries(percent).toFixed(1)} µs per series)`;
      const consumers: Array<[string, number]> = [
        ['redis-server', figures.redis_cpu_percent.value],
        ['weir', figures.weir_cpu_percent.value],
        ['the Kafka broker', figures.kafka_cpu_percent.value],
        ['the load generator', figures.loadgen_cpu_percent.value],
      ];
      consumers.sort((a, b) => b[1] - a[1]);
      findings.unshift(
        `new series per second: ${Math.round(rate).toLocaleString('en-US')}, ${((1 - rate / TARGET) * 100).toFixed(0)}% short of ${TARGET.toLocaleString('en-US')}; ` +
          `at ${Math.round(perCpu).toLocaleString('en-US')} series per CPU-second, the target takes ${(TARGET / perCpu).toFixed(1)} cores of weir alone`,
        `the machine was ${figures.machine_busy_percent.value.toFixed(0)}% busy: ${consumers.map(([name, percent]) => share(name, percent)).join(', ')}. ` +
          `The busiest is ${consumers[0][0]}; weir's JavaScript and Redis' command loop each run on one thread, so either one near 100% of a core is the limit.`,
      );
    }
    findings.push(describeStageTimes(stages), ...runFindings('weir', runs));
    if (ctx.profileDir) {
      const profileDir = ctx.profileDir;
      findings.push(
        ...(await withScratch((scratch) =>
          profiledRun({
            label: this.id,
            profileDir,
            weir: { topology: TOPOLOGY, env: scratch.env },
            prepare: (weir) => warmUp(weir, warm, CONCURRENCY).then(() => undefined),
            measure,
            log: ctx.log,
          }),
        )),
      );
    }
    return { id: this.id, title: this.title, figures, findings };
  },
};
