import { figure, type Figure } from './scenario.js';
import { formatStatuses, okShare, runLoad, type LoadResult, type Payload } from './loadgen.js';
import { meterProcess, waitForIdle } from './proc.js';
import type { RunningServer } from './servers.js';

/**
 * One measured run against a running server, and the steady-state procedure built from it: warm
 * up (every body once, so every series is known), then timed runs of the same bodies, the servers
 * taking turns run by run so that a noisy spell of the machine hits each of them alike.
 */

export interface RunMeasurement {
  samplesPerSecond: number;
  samplesPerCpuSecond: number;
  seriesPerSecond: number;
  seriesPerCpuSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  peakRssMiB: number;
  cpuSeconds: number;
  load: LoadResult;
  /** False when the server was still busy 10 s after the load (its CPU then undercounts). */
  settled: boolean;
}

export interface MeasureOptions {
  payloads: readonly Payload[];
  durationMs: number;
  concurrency: number;
  /** Send each payload at most once (bodies of new series). */
  cycle?: boolean;
  startAt?: number;
}

/**
 * Meters the server's process around one load: from idle before it to idle after it, so that work
 * it does after answering (vmagent forwards asynchronously) is counted, and the last run's is not.
 */
export async function measureOnce(server: RunningServer, options: MeasureOptions): Promise<RunMeasurement> {
  await waitForIdle(server.pid);
  const meter = meterProcess(server.pid);
  const load = await runLoad({ url: server.writeUrl, ...options });
  const settled = await waitForIdle(server.pid);
  const { cpuSeconds, peakRssMiB } = meter.stop();
  return {
    samplesPerSecond: load.acceptedSamples / load.elapsedSeconds,
    samplesPerCpuSecond: load.acceptedSamples / cpuSeconds,
    seriesPerSecond: load.acceptedSeries / load.elapsedSeconds,
    seriesPerCpuSecond: load.acceptedSeries / cpuSeconds,
    latencyP50Ms: load.latencyMs.p50,
    latencyP99Ms: load.latencyMs.p99,
    peakRssMiB,
    cpuSeconds,
    load,
    settled,
  };
}

/** Sends every payload once; throws when the server did not accept nearly all of them. */
export async function warmUp(server: RunningServer, payloads: readonly Payload[], concurrency: number): Promise<LoadResult> {
  const load = await runLoad({ url: server.writeUrl, payloads, concurrency, durationMs: 300_000, cycle: false });
  if (okShare(load) < 0.99) {
    throw new Error(`${server.name} did not accept the warm-up (${formatStatuses(load.statuses)}):\n${server.output()}`);
  }
  return load;
}

export interface SteadyOptions {
  payloads: readonly Payload[];
  runs: number;
  durationMs: number;
  concurrency: number;
  log(message: string): void;
}

/** `runs` timed runs per server, taking turns; servers must be warm. Results by server name. */
export async function measureSteady(servers: readonly RunningServer[], options: SteadyOptions): Promise<Map<string, RunMeasurement[]>> {
  const results = new Map<string, RunMeasurement[]>(servers.map((s) => [s.name, []]));
  const nextIndex = new Map<string, number>();
  for (let run = 1; run <= options.runs; run++) {
    for (const server of servers) {
      const measured = await measureOnce(server, { ...options, startAt: nextIndex.get(server.name) ?? 0 });
      nextIndex.set(server.name, measured.load.nextIndex);
      results.get(server.name)!.push(measured);
      options.log(`${server.name} run ${run}/${options.runs}: ${describeRun(measured)}`);
    }
  }
  return results;
}

const rounded = (value: number) => (Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2));

export function describeRun(m: RunMeasurement): string {
  return (
    `${rounded(m.samplesPerSecond)} samples/s, ${rounded(m.samplesPerCpuSecond)} samples/CPU-s, ` +
    `${m.cpuSeconds.toFixed(2)} CPU-s in ${m.load.elapsedSeconds.toFixed(1)} s, p50 ${m.latencyP50Ms.toFixed(2)} ms, ` +
    `p99 ${m.latencyP99Ms.toFixed(2)} ms, peak RSS ${m.peakRssMiB.toFixed(0)} MiB, ${formatStatuses(m.load.statuses)}`
  );
}

/** The figures of the steady scenarios, medians over the runs. */
export function steadyFigures(runs: readonly RunMeasurement[], targets: { samplesPerCpuSecond?: number } = {}): Record<string, Figure> {
  const of = (pick: (m: RunMeasurement) => number) => runs.map(pick);
  return {
    samples_per_second: figure(of((m) => m.samplesPerSecond), 'samples/s', { note: 'samples answered 2xx per wall second, load generator on the same machine' }),
    samples_per_cpu_second: figure(of((m) => m.samplesPerCpuSecond), 'samples/CPU-s', {
      note: "samples answered 2xx per CPU-second (utime+stime) of the server's process, idle to idle",
      ...(targets.samplesPerCpuSecond !== undefined ? { target: { op: '>=' as const, value: targets.samplesPerCpuSecond } } : {}),
    }),
    latency_p50_ms: figure(of((m) => m.latencyP50Ms), 'ms'),
    latency_p99_ms: figure(of((m) => m.latencyP99Ms), 'ms'),
    peak_rss_mib: figure(of((m) => m.peakRssMiB), 'MiB', { note: 'VmHWM over the run (reset at its start)' }),
  };
}

/** Findings every scenario wants: failed requests, runs whose server did not settle. */
export function runFindings(name: string, runs: readonly RunMeasurement[]): string[] {
  const findings: string[] = [];
  runs.forEach((m, i) => {
    if (okShare(m.load) < 1) findings.push(`${name} run ${i + 1}: not every request was accepted (${formatStatuses(m.load.statuses)})`);
    if (!m.settled) findings.push(`${name} run ${i + 1}: still busy 10 s after the load; its CPU figure undercounts`);
  });
  return findings;
}
