import type { Payload } from './loadgen.js';
import { steadyAgainstVmagent, type SteadyComparison } from './peer.js';
import { profiledRun } from './profile-run.js';
import type { Figure, ScenarioContext, ScenarioResult } from './scenario.js';
import { startWeir, type RunningServer } from './servers.js';
import { describeStageTimes, scrapeStageTimes, stageTimesBetween } from './stage-times.js';
import { measureOnce, runFindings, steadyFigures, warmUp } from './steady.js';

/**
 * The steady-state scenarios (embedded, ingest) share one procedure: weir on a topology, warmed
 * with every corpus body once so that every series is known, then the corpus replayed for a fixed
 * time, with vmagent measured alike on the same bodies as the peer.
 */

/** Requests in flight: Prometheus' default remote-write shards start low and grow; 8 is a busy sender. */
export const STEADY_CONCURRENCY = 8;

export const steadyDurationMs = (ctx: ScenarioContext) => (ctx.quick ? 3_000 : 15_000);

export interface SteadyScenarioOptions {
  id: string;
  title: string;
  topology: string;
  payloads: readonly Payload[];
  env?: Record<string, string>;
  /** With `--profile`, profile one extra run of weir (one steady scenario is enough to show where time goes). */
  profile?: boolean;
  /** Called once weir is warm, and after the runs: for checks of the topology's own sink. */
  afterWarmUp?(weir: RunningServer): Promise<void>;
  afterRuns?(weir: RunningServer): Promise<string[]>;
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const compact = (n: number) => Math.round(n).toLocaleString('en-US');

/** One line per headline figure: weir against vmagent. */
function comparisonFindings(weir: Record<string, Figure>, peer: Record<string, Figure>): string[] {
  const line = (name: string, what: string, higherIsBetter: boolean) => {
    const w = weir[name].value;
    const p = peer[name].value;
    const better = higherIsBetter ? w >= p : w <= p;
    return `${what}: weir ${compact(w)} vs vmagent ${compact(p)} ${weir[name].unit} (${ratio(w, p)} of vmagent's; ${better ? 'ahead' : 'behind'})`;
  };
  return [
    line('samples_per_cpu_second', 'samples per CPU-second', true),
    line('samples_per_second', 'wall throughput', true),
    line('peak_rss_mib', 'peak RSS', false),
  ];
}

export async function runSteadyScenario(ctx: ScenarioContext, options: SteadyScenarioOptions): Promise<ScenarioResult> {
  const durationMs = steadyDurationMs(ctx);
  const steady = { payloads: options.payloads, runs: ctx.runs, durationMs, concurrency: STEADY_CONCURRENCY, log: ctx.log };
  let comparison: SteadyComparison;
  const extraFindings: string[] = [];
  const weir = await startWeir({ topology: options.topology, env: options.env });
  try {
    await warmUp(weir, options.payloads, STEADY_CONCURRENCY);
    await options.afterWarmUp?.(weir);
    const stagesBefore = await scrapeStageTimes(weir.baseUrl);
    comparison = await steadyAgainstVmagent(weir, options.id, steady);
    extraFindings.push(describeStageTimes(stageTimesBetween(stagesBefore, await scrapeStageTimes(weir.baseUrl))));
    extraFindings.push(...((await options.afterRuns?.(weir)) ?? []));
  } finally {
    await weir.stop();
  }
  const peerFigures = steadyFigures(comparison.peer);
  const figures = steadyFigures(comparison.weir, { samplesPerCpuSecond: peerFigures.samples_per_cpu_second.value });
  const findings = [
    ...comparisonFindings(figures, peerFigures),
    ...runFindings('weir', comparison.weir),
    ...runFindings('vmagent', comparison.peer),
    `${comparison.peerNote}; it forwarded ${comparison.forwarded.requests} requests (${(comparison.forwarded.bytes / 2 ** 20).toFixed(0)} MiB) to the discard endpoint`,
    ...extraFindings,
  ];
  if (ctx.profileDir && options.profile) {
    const measureOptions = { payloads: options.payloads, durationMs, concurrency: STEADY_CONCURRENCY };
    findings.push(
      ...(await profiledRun({
        label: options.id,
        profileDir: ctx.profileDir,
        weir: { topology: options.topology, env: options.env },
        prepare: (w) => warmUp(w, options.payloads, STEADY_CONCURRENCY).then(() => undefined),
        measure: (w) => measureOnce(w, measureOptions),
        log: ctx.log,
      })),
    );
  }
  return { id: options.id, title: options.title, figures, peer: { name: 'vmagent', figures: peerFigures }, findings };
}
