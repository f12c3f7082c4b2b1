/**
 * How many shards the remote-write queues need, recomputed every `shard_update_interval` from
 * exponentially weighted measurements (see ewma.ts), after Prometheus' queue manager.
 *
 * The estimate: a shard sends one request at a time, so it spends `seconds per sample` =
 * (send time per second) / (samples sent per second) on each sample it delivers. To keep up with
 * the samples coming in, and to work off 5% of the backlog every second on top, the queues need
 *
 *     shards = seconds per sample × (samples in per second + 0.05 × backlog)
 *
 * shards busy sending all the time. Rounded up, then changed only when it differs from the
 * current count by more than 30% (resharding flushes every shard: it is not free), never shrunk
 * while more than 10 s of input is waiting, never changed while sends fail (more shards would only
 * hammer a receiver that is down; fewer would slow the catch-up once it is back), and clamped to
 * `minShards..maxShards`.
 */

export interface MeasuredLoad {
  /** Samples enqueued per second. */
  samplesInPerSecond: number;
  /** Samples whose request finished (2xx, or refused for good) per second. */
  samplesOutPerSecond: number;
  /** Seconds spent in those requests per second, summed over shards (2 = two shards always busy). */
  sendSecondsPerSecond: number;
  /** Samples enqueued and not yet finished. */
  backlogSamples: number;
  /** A send failed with a retriable error and none has succeeded since. */
  sendsFailing: boolean;
}

export interface ShardLimits {
  minShards: number;
  maxShards: number;
}

/** Share of the backlog to work off per second. */
const BACKLOG_CATCHUP_PER_SECOND = 0.05;
/** A desired count within ±30% of the current one keeps the current one. */
const HYSTERESIS = 0.3;
/** Seconds of input waiting beyond which the queues are behind and must not shrink. */
const BEHIND_SECONDS = 10;

export function desiredShards(current: number, load: MeasuredLoad, limits: ShardLimits): number {
  const clamp = (n: number) => Math.min(limits.maxShards, Math.max(limits.minShards, n));
  if (load.sendsFailing) return clamp(current);
  const { samplesInPerSecond: inRate, samplesOutPerSecond: outRate, backlogSamples: backlog } = load;
  if (!(outRate > 0)) {
    // Nothing finished lately: no cost per sample to go by. Idle queues may shrink; busy ones wait.
    return inRate <= 0 && backlog <= 0 ? clamp(limits.minShards) : clamp(current);
  }
  const secondsPerSample = load.sendSecondsPerSecond / outRate;
  const wanted = Math.ceil(secondsPerSample * (inRate + BACKLOG_CATCHUP_PER_SECOND * backlog));
  if (wanted >= current * (1 - HYSTERESIS) && wanted <= current * (1 + HYSTERESIS)) return clamp(current);
  const behind = inRate > 0 ? backlog / inRate > BEHIND_SECONDS : backlog > 0;
  if (wanted < current && behind) return clamp(current);
  return clamp(wanted);
}
