import { Counter, Gauge, type Registry } from 'prom-client';
import { DownstreamError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DedupTier } from './tier.js';

/**
 * The Redis dedup tier. Series are kept in small hashes ("buckets") rather than one key each:
 * a key costs ~100 bytes of Redis bookkeeping, a listpack-encoded hash field ~15 bytes.
 *
 *   key   = `<prefix>:<bits>:<bucket hex>`  bucket = the top `bits` bits of the 64-bit hash
 *   field = the low bytes of the hash (raw)  together with the bucket they give back all 64 bits,
 *                                             so two series never share an entry
 *   value = last-dispatched time, unix seconds (a 4-byte integer inside the listpack)
 *
 * The bucket width is part of the key so a layout sized for another `expected_series` never reads
 * this one's fields as its own (that would be a false "seen", i.e. a lost series).
 */

/** Average series per bucket the layout aims at: peaks stay under Redis' default hash-max-listpack-entries (128). */
export const TARGET_BUCKET_FILL = 64;
const MIN_BUCKET_BITS = 4;
const MAX_BUCKET_BITS = 24;
/** Fields of one bucket handled by one HSET/HMGET; see `group`. */
export const MAX_GROUP_FIELDS = 1000;

export class BucketLayout {
  /** Bits of the hash (from the top) that pick the bucket. */
  readonly bits: number;
  /** Bytes of the hash (from the bottom) stored as the field: they cover every bit the bucket doesn't. */
  readonly fieldBytes: number;

  constructor(readonly prefix: string, expectedSeries: number) {
    const wanted = Math.ceil(Math.log2(Math.max(1, expectedSeries / TARGET_BUCKET_FILL)));
    this.bits = Math.min(MAX_BUCKET_BITS, Math.max(MIN_BUCKET_BITS, wanted));
    this.fieldBytes = Math.ceil((64 - this.bits) / 8);
  }

  get buckets(): number {
    return 2 ** this.bits;
  }

  key(bucket: number): string {
    return `${this.prefix}:${this.bits}:${bucket.toString(16)}`;
  }

  /**
   * The hashes grouped by bucket, each group with the positions of its hashes in `hashes`. A bucket
   * gets several groups past MAX_GROUP_FIELDS (a batch far larger than the layout expects), since
   * the scripts pass a group's fields to one HSET/HMGET through Lua's unpack, which takes ~8000.
   */
  group(hashes: readonly bigint[]): Grouped {
    const raw = Buffer.allocUnsafe(8 * hashes.length);
    const open = new Map<number, BucketGroup>();
    const groups: BucketGroup[] = [];
    for (let i = 0; i < hashes.length; i++) {
      raw.writeBigUInt64BE(BigInt.asUintN(64, hashes[i]), 8 * i);
      const bucket = raw.readUInt32BE(8 * i) >>> (32 - this.bits);
      let group = open.get(bucket);
      if (!group || group.indices.length === MAX_GROUP_FIELDS) {
        group = { key: this.key(bucket), indices: [] };
        open.set(bucket, group);
        groups.push(group);
      }
      group.indices.push(i);
    }
    return { groups, raw };
  }

  /** The fields of these groups' hashes, group by group, packed end to end (`fieldBytes` each). */
  packFields(grouped: Grouped, groups: readonly BucketGroup[]): Buffer {
    const w = this.fieldBytes;
    const packed = Buffer.allocUnsafe(w * groups.reduce((n, g) => n + g.indices.length, 0));
    let at = 0;
    for (const g of groups) {
      for (const i of g.indices) at += grouped.raw.copy(packed, at, 8 * i + 8 - w, 8 * i + 8);
    }
    return packed;
  }

  /** Where one hash is stored (for tests and debugging). */
  locate(hash: bigint): { key: string; field: Buffer } {
    const grouped = this.group([hash]);
    return { key: grouped.groups[0].key, field: this.packFields(grouped, grouped.groups) };
  }
}

export interface BucketGroup {
  key: string;
  indices: number[];
}

export interface Grouped {
  groups: BucketGroup[];
  /** The hashes as 8 big-endian bytes each, in input order. */
  raw: Buffer;
}

/**
 * Each bucket is one HMGET (lookup) or HSET + PEXPIRE (mark), run server-side by a script over
 * many buckets: ioredis spends several µs of CPU on each command and each Buffer argument it sends,
 * so a thousand buckets go as one EVAL whose fields travel packed in one string (a 5000-series
 * lookup: ~6 ms of client CPU, against 15-20 ms as pipelined HMGETs).
 * KEYS: the bucket keys. ARGV[1]: field width; ARGV[2]: each key's field count, space-separated;
 * ARGV[3]: the fields, key by key, end to end. Returns the values in the same order (nil if absent).
 */
const LOOKUP_SCRIPT = `
local w, packed, out, pos, k = tonumber(ARGV[1]), ARGV[3], {}, 1, 0
for n in string.gmatch(ARGV[2], '%d+') do
  k = k + 1
  local fields = {}
  for j = 1, tonumber(n) do
    fields[j] = string.sub(packed, pos, pos + w - 1)
    pos = pos + w
  end
  local values = redis.call('HMGET', KEYS[k], unpack(fields))
  for j = 1, #fields do out[#out + 1] = values[j] end
end
return out`;

/** As LOOKUP_SCRIPT, then ARGV[4]: each key's lifetime in ms, space-separated; ARGV[5]: the time to store. */
const MARK_SCRIPT = `
local w, packed, at, pos, k = tonumber(ARGV[1]), ARGV[3], ARGV[5], 1, 0
local lifetimes = {}
for ms in string.gmatch(ARGV[4], '%d+') do lifetimes[#lifetimes + 1] = ms end
for n in string.gmatch(ARGV[2], '%d+') do
  k = k + 1
  local args = {}
  for j = 1, tonumber(n) do
    args[2 * j - 1] = string.sub(packed, pos, pos + w - 1)
    args[2 * j] = at
    pos = pos + w
  end
  redis.call('HSET', KEYS[k], unpack(args))
  redis.call('PEXPIRE', KEYS[k], lifetimes[k], 'NX')
end
return k`;

/** Buckets per script call: each call blocks Redis for ~1-2 µs per bucket, so a millisecond or two. */
export const BUCKETS_PER_SCRIPT = 1000;

export type RedisCommand = [name: string, ...args: Array<string | number | Buffer>];
export type PipelineReplies = Array<[error: Error | null, result: unknown]>;

/** The part of an ioredis client the tier uses (a fake in unit tests). */
export interface RedisDedupClient {
  /** ioredis' connection state; only `ready` accepts commands. */
  readonly status: string;
  pipeline(commands: RedisCommand[]): { exec(): Promise<PipelineReplies | null> };
  on(event: 'ready' | 'close' | 'error', listener: (err?: Error) => void): unknown;
}

export interface DedupTierMetrics {
  up: Gauge<'tier'>;
  errors: Counter<'tier' | 'op'>;
}

/** Shared by every dedup tier in a registry: one metric family, a `tier` label each. */
export function dedupTierMetrics(registry: Registry): DedupTierMetrics {
  const existingUp = registry.getSingleMetric('weir_dedup_tier_up') as Gauge<'tier'> | undefined;
  const existingErrors = registry.getSingleMetric('weir_dedup_tier_errors_total') as Counter<'tier' | 'op'> | undefined;
  return {
    up: existingUp ?? new Gauge({ name: 'weir_dedup_tier_up', help: 'Whether a dedup tier is serving (1) or degraded (0): a degraded tier answers "unknown", so series pass on as new.', labelNames: ['tier'], registers: [registry] }),
    errors:
      existingErrors ??
      new Counter({ name: 'weir_dedup_tier_errors_total', help: 'Dedup tier operations (lookup, mark) that failed or timed out.', labelNames: ['tier', 'op'], registers: [registry] }),
  };
}

export interface RedisDedupTierOptions {
  name: string;
  client: RedisDedupClient;
  layout: BucketLayout;
  /** ms: stored times older than this are unknown; also the bucket key's lifetime (before jitter). */
  ttl: number;
  /** Fraction of `ttl` added at random to each bucket key's lifetime. */
  ttlJitter: number;
  /** ms a round trip may take before the tier counts Redis as down. */
  commandTimeout: number;
  logger: Logger;
  metrics?: DedupTierMetrics;
  /** How often a degraded tier pings Redis to come back (ms). */
  probeInterval?: number;
  now?: () => number;
  random?: () => number;
}

/**
 * `lookup` and `mark` each send one pipeline (one round trip) whatever the batch size: a script
 * call per thousand buckets. Failures never reach the caller: the tier turns unhealthy, answers
 * "unknown" (a duplicate downstream, never a loss) and pings Redis in the background until it
 * answers again.
 */
export class RedisDedupTier implements DedupTier {
  readonly name: string;
  /** Set by a timeout or connection error, cleared by a successful probe or a new connection. */
  private failing = false;
  private reportedUp: boolean | undefined;
  private lastError: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: RedisDedupTierOptions) {
    this.name = options.name;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    options.client.on('ready', () => {
      this.failing = false;
      this.report();
    });
    options.client.on('close', () => this.report());
    options.client.on('error', (err) => {
      this.lastError = err?.message;
    });
    this.report();
  }

  healthy(): boolean {
    return !this.stopped && this.options.client.status === 'ready' && !this.failing;
  }

  async lookup(hashes: readonly bigint[]): Promise<Array<number | undefined>> {
    const answers = new Array<number | undefined>(hashes.length).fill(undefined);
    if (hashes.length === 0 || !this.healthy()) return answers;
    const { layout } = this.options;
    const grouped = layout.group(hashes);
    const chunks = chunked(grouped.groups, BUCKETS_PER_SCRIPT);
    let replies: PipelineReplies;
    try {
      replies = await this.send(chunks.map((chunk) => scriptCommand(LOOKUP_SCRIPT, layout, grouped, chunk)));
    } catch (err) {
      this.fail('lookup', err);
      return answers;
    }
    const staleAt = this.now() - this.options.ttl;
    replies.forEach(([err, reply], c) => {
      if (err) return this.replyError('lookup', err);
      const values = reply as Array<string | null>;
      let v = 0;
      for (const group of chunks[c]) {
        for (const index of group.indices) {
          const value = values[v++];
          if (value === null || value === undefined) continue;
          const at = Number(value) * 1000;
          // Older than ttl: the bucket outlived it (jitter) but the entry is no longer trusted.
          if (Number.isFinite(at) && at > staleAt) answers[index] = at;
        }
      }
    });
    return answers;
  }

  async mark(hashes: readonly bigint[], at: number): Promise<void> {
    if (hashes.length === 0 || !this.healthy()) return;
    // Rounded down: a time read back is never later than the real one, so it errs towards resending.
    const seconds = String(Math.floor(at / 1000));
    const { layout } = this.options;
    const grouped = layout.group(hashes);
    const chunks = chunked(grouped.groups, BUCKETS_PER_SCRIPT);
    // The script sets each bucket's lifetime with PEXPIRE NX: it runs from the bucket's creation and
    // is never extended, so entries of series that stopped (churn) leave with their bucket instead
    // of piling up in one that later writes keep alive.
    const commands = chunks.map((chunk) => {
      const lifetimes = chunk.map(() => this.bucketLifetime()).join(' ');
      return scriptCommand(MARK_SCRIPT, layout, grouped, chunk, lifetimes, seconds);
    });
    try {
      const replies = await this.send(commands);
      for (const [err] of replies) if (err) this.replyError('mark', err);
    } catch (err) {
      this.fail('mark', err);
    }
  }

  /** Stops the background probe; the caller closes the client. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.probeTimer);
    this.report();
  }

  private bucketLifetime(): number {
    const { ttl, ttlJitter } = this.options;
    return Math.max(1, Math.round(ttl * (1 + ttlJitter * this.random())));
  }

  /** One pipeline, bounded by the command timeout; connection-level errors reject. */
  private async send(commands: RedisCommand[]): Promise<PipelineReplies> {
    const ms = this.options.commandTimeout;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DownstreamError(`redis: no reply within ${ms} ms`)), ms);
    });
    try {
      const replies = await Promise.race([this.options.client.pipeline(commands).exec(), timeout]);
      if (!replies) throw new DownstreamError('redis: pipeline discarded');
      // A command that never reached Redis (connection gone) fails the whole round trip.
      const lost = replies.find(([err]) => err && !isReplyError(err));
      if (lost) throw new DownstreamError(`redis: ${lost[0]!.message}`, { cause: lost[0] });
      return replies;
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(op: 'lookup' | 'mark', err: unknown): void {
    this.options.metrics?.errors.inc({ tier: this.name, op });
    this.lastError = err instanceof Error ? err.message : String(err);
    if (this.failing) return;
    this.failing = true;
    this.report();
    this.scheduleProbe();
  }

  /** Redis answered, with an error about the data (WRONGTYPE, OOM): counted, the connection is fine. */
  private replyError(op: 'lookup' | 'mark', err: Error): void {
    this.options.metrics?.errors.inc({ tier: this.name, op });
    this.options.logger.warn({ tier: this.name, op, err: err.message }, 'redis dedup tier: command failed');
  }

  private scheduleProbe(): void {
    if (this.probeTimer || this.stopped) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probe();
    }, this.options.probeInterval ?? 500);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (!this.failing || this.stopped) return;
    // While disconnected, ioredis reconnects by itself and `ready` clears the failure.
    if (this.options.client.status === 'ready') {
      try {
        await this.send([['ping']]);
        this.failing = false;
        this.report();
        return;
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
      }
    }
    if (this.failing) this.scheduleProbe();
  }

  /** Publishes the health on the gauge and logs each change once. */
  private report(): void {
    const up = this.healthy();
    this.options.metrics?.up.set({ tier: this.name }, up ? 1 : 0);
    if (up === this.reportedUp) return;
    const first = this.reportedUp === undefined;
    this.reportedUp = up;
    if (up) this.options.logger.info({ tier: this.name }, 'redis dedup tier up');
    else if (!first && !this.stopped) {
      this.options.logger.warn({ tier: this.name, err: this.lastError }, 'redis dedup tier down: every series counts as new until it is back');
    }
  }
}

function scriptCommand(script: string, layout: BucketLayout, grouped: Grouped, chunk: BucketGroup[], ...extra: string[]): RedisCommand {
  const command: RedisCommand = ['eval', script, chunk.length];
  for (const g of chunk) command.push(g.key);
  command.push(layout.fieldBytes, chunk.map((g) => g.indices.length).join(' '), layout.packFields(grouped, chunk), ...extra);
  return command;
}

function chunked<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function isReplyError(err: Error): boolean {
  return err.name === 'ReplyError';
}
