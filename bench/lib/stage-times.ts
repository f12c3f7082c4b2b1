/**
 * Where a request's wall time goes inside weir, from its own metrics: the mean time per batch of
 * each step (`weir_stage_duration_seconds` sum / count). A CPU profile shows what the process
 * computes; this shows what it waits for (Kafka acks, Redis, SQLite), which a profile cannot.
 */

export type StageTimes = Map<string, { seconds: number; batches: number }>;

const SERIES = /^weir_stage_duration_seconds_(sum|count)\{([^}]*)\}\s+(\S+)$/;

/** Per `pipeline/stage`, the cumulative seconds and batches weir reports on /metrics. */
export async function scrapeStageTimes(baseUrl: string): Promise<StageTimes> {
  const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const times: StageTimes = new Map();
  for (const line of text.split('\n')) {
    const match = SERIES.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const key = `${labels.pipeline}/${labels.stage}`;
    const entry = times.get(key) ?? { seconds: 0, batches: 0 };
    if (match[1] === 'sum') entry.seconds += Number(match[3]);
    else entry.batches += Number(match[3]);
    times.set(key, entry);
  }
  return times;
}

/** What happened between two scrapes. */
export function stageTimesBetween(before: StageTimes, after: StageTimes): StageTimes {
  const delta: StageTimes = new Map();
  for (const [key, end] of after) {
    const start = before.get(key) ?? { seconds: 0, batches: 0 };
    delta.set(key, { seconds: end.seconds - start.seconds, batches: end.batches - start.batches });
  }
  return delta;
}

/** Adds `more` into `total` (several runs into one line). */
export function addStageTimes(total: StageTimes, more: StageTimes): StageTimes {
  for (const [key, { seconds, batches }] of more) {
    const entry = total.get(key) ?? { seconds: 0, batches: 0 };
    total.set(key, { seconds: entry.seconds + seconds, batches: entry.batches + batches });
  }
  return total;
}

/** `mean time per batch by step: ingest/canonicalize 4.10 ms × 115, …` */
export function describeStageTimes(times: StageTimes, what = 'the measured runs'): string {
  const parts = [...times.entries()]
    .filter(([, t]) => t.batches > 0)
    .map(([key, t]) => `${key} ${((t.seconds / t.batches) * 1000).toFixed(2)} ms × ${t.batches}`);
  return `weir's mean time per batch by step over ${what} (weir_stage_duration_seconds): ${parts.join(', ') || 'none recorded'}`;
}
