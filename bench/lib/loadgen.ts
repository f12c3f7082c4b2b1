import { Agent, request } from 'node:http';

/**
 * The load generator: posts pre-encoded remote-write bodies over keep-alive HTTP connections, a
 * fixed number of requests in flight, until a time or request budget is spent, and records each
 * request's latency and status. Bodies are encoded beforehand so that generating them costs
 * nothing inside the measured interval.
 */

/** One pre-encoded request and what it carries, for counting what the server accepted. */
export interface Payload {
  body: Buffer;
  headers: Readonly<Record<string, string>>;
  samples: number;
  series: number;
  /** File name or synthetic index, for messages. */
  name: string;
}

export interface LoadOptions {
  /** The remote-write endpoint, e.g. http://127.0.0.1:9201/api/v1/write. */
  url: string;
  payloads: readonly Payload[];
  /** Requests in flight at once (one keep-alive connection each). */
  concurrency: number;
  /** Stop issuing requests after this long (requests in flight are awaited). */
  durationMs: number;
  /** And after this many requests, whichever comes first. */
  maxRequests?: number;
  /** Replay the payloads round and round (default), or send each at most once (bodies of new series). */
  cycle?: boolean;
  /** Start at this payload index, so that consecutive loads do not always begin with the same bodies. */
  startAt?: number;
  /** One request's limit; a request past it counts as status `timeout`. */
  requestTimeoutMs?: number;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  requests: number;
  /** Counts by HTTP status, plus `error` (connection failures) and `timeout`. */
  statuses: Record<string, number>;
  /** Samples and series of the requests answered 2xx. */
  acceptedSamples: number;
  acceptedSeries: number;
  /** From the first request sent to the last answer received. */
  elapsedSeconds: number;
  /** Milliseconds, over every request (failed ones too). */
  latencyMs: LatencySummary;
  /** Where the next load should start to continue the rotation. */
  nextIndex: number;
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarizeLatency(latencies: Float64Array): LatencySummary {
  const sorted = latencies.slice().sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

type Outcome = number | 'error' | 'timeout';

function post(url: URL, agent: Agent, payload: Payload, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: { ...payload.headers, 'content-length': String(payload.body.length) },
      timeout: timeoutMs,
    });
    req.on('response', (res) => {
      // The body is read to the end so that the connection can carry the next request.
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve('error'));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', () => resolve('error'));
    req.end(payload.body);
  });
}

/** Sends load as `options` say; never throws for failed requests, it counts them. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { payloads, concurrency, durationMs, cycle = true, requestTimeoutMs = 30_000 } = options;
  if (payloads.length === 0) throw new Error('runLoad: no payloads');
  if (!(concurrency >= 1)) throw new Error(`runLoad: concurrency must be >= 1, got ${concurrency}`);
  // Both budgets are always bounded: a request count is derived from the payloads when not given.
  const maxRequests = Math.min(options.maxRequests ?? Number.MAX_SAFE_INTEGER, cycle ? Number.MAX_SAFE_INTEGER : payloads.length);
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  // Preallocated and grown by doubling, so that recording a latency allocates nothing per request.
  let latencies = new Float64Array(Math.min(maxRequests, 1 << 16));
  const statuses: Record<string, number> = {};
  let issued = 0;
  let completed = 0;
  let acceptedSamples = 0;
  let acceptedSeries = 0;
  let index = options.startAt ?? 0;

  const started = performance.now();
  const deadline = started + durationMs;
  let lastAnswer = started;
  const worker = async () => {
    while (issued < maxRequests && performance.now() < deadline) {
      issued++;
      const payload = payloads[index % payloads.length];
      index++;
      const sent = performance.now();
      const outcome = await post(url, agent, payload, requestTimeoutMs);
      lastAnswer = performance.now();
      if (completed === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[completed++] = lastAnswer - sent;
      statuses[outcome] = (statuses[outcome] ?? 0) + 1;
      if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) {
        acceptedSamples += payload.samples;
        acceptedSeries += payload.series;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return {
    requests: completed,
    statuses,
    acceptedSamples,
    acceptedSeries,
    elapsedSeconds: (lastAnswer - started) / 1000,
    latencyMs: summarizeLatency(latencies.subarray(0, completed)),
    nextIndex: index % payloads.length,
  };
}

/** Share of requests answered 2xx. */
export function okShare(result: LoadResult): number {
  let ok = 0;
  for (const [status, count] of Object.entries(result.statuses)) if (status.startsWith('2')) ok += count;
  return result.requests ? ok / result.requests : 0;
}

/** `204×1234 503×2`, for logs and findings. */
export function formatStatuses(statuses: Record<string, number>): string {
  return Object.entries(statuses)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
}
