import { execFileSync } from 'node:child_process';
import type { Payload } from './loadgen.js';
import { startDiscard, startVmagent, stopAll, type RunningServer } from './servers.js';
import { measureSteady, warmUp, type RunMeasurement, type SteadyOptions } from './steady.js';

/**
 * weir and its peer, vmagent, measured the same way on the same bodies. vmagent forwards to a
 * discard endpoint in a process of its own. The peer's runs are kept for the rest of the bench
 * process, so that a second steady scenario on the same bodies reuses them instead of spending
 * another minute re-measuring the same binary.
 */

export interface SteadyComparison {
  weir: RunMeasurement[];
  peer: RunMeasurement[];
  /** Where the peer's figures come from, for the report. */
  peerNote: string;
  /** Requests and bytes vmagent forwarded to the discard endpoint (0 would mean it only queued). */
  forwarded: { requests: number; bytes: number };
}

interface PeerRuns {
  runs: RunMeasurement[];
  scenario: string;
  forwarded: { requests: number; bytes: number };
}

const peerCache = new Map<string, PeerRuns>();

function cacheKey(payloads: readonly Payload[], options: SteadyOptions): string {
  let bytes = 0;
  for (const p of payloads) bytes += p.body.length;
  return JSON.stringify({ requests: payloads.length, bytes, runs: options.runs, durationMs: options.durationMs, concurrency: options.concurrency });
}

async function forwardedBy(discard: RunningServer): Promise<{ requests: number; bytes: number }> {
  const res = await fetch(`${discard.baseUrl}/stats`);
  return (await res.json()) as { requests: number; bytes: number };
}

/**
 * Measures the (warm) weir given, and vmagent unless its runs on the same bodies and settings are
 * already known from an earlier scenario of this bench process.
 */
export async function steadyAgainstVmagent(weir: RunningServer, scenario: string, options: SteadyOptions): Promise<SteadyComparison> {
  const key = cacheKey(options.payloads, options);
  const cached = peerCache.get(key);
  if (cached) {
    const runs = await measureSteady([weir], options);
    return { weir: runs.get(weir.name)!, peer: cached.runs, peerNote: `vmagent runs reused from ${cached.scenario} (same bodies and settings)`, forwarded: cached.forwarded };
  }
  let discard: RunningServer | undefined;
  let vmagent: RunningServer | undefined;
  try {
    discard = await startDiscard();
    vmagent = await startVmagent(discard.writeUrl);
    await warmUp(vmagent, options.payloads, options.concurrency);
    const runs = await measureSteady([weir, vmagent], options);
    const forwarded = await forwardedBy(discard);
    const peerRuns = runs.get(vmagent.name)!;
    peerCache.set(key, { runs: peerRuns, scenario, forwarded });
    return { weir: runs.get(weir.name)!, peer: peerRuns, peerNote: `vmagent measured in ${scenario}, runs alternating with weir's`, forwarded };
  } finally {
    await stopAll([vmagent, discard]);
  }
}

/** `vmagent 1.79.5+ds1-2+b5`, from dpkg; the binary itself prints no version. */
export function vmagentVersion(): string | undefined {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'victoria-metrics'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
