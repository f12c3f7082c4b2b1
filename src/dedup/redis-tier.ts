import { createHash } from 'node:crypto';
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
/** Buckets per script call: each call blocks Redis for ~1-2 µs per bucket, so a millisecond or two. */
export const BUCKETS_PER_SCRIPT = 1000;
/** Layouts of up to this many bucket bits remember each bucket's expiry (see RedisDedupTier.expiresAt). */
const MAX_TRACKED_BUCKET_BITS = 20;
/** A bucket whose known expiry is closer than this is given a lifetime again (clock skew, slow calls). */
const EXPIRY_MARGIN_MS = 60_000;
/** A group's header in a packed chunk: bucket number (u32 BE), field count (u16 BE). */
const GROUP_HEADER_BYTES = 6;

export class BucketLayout {
  /** Bits of the hash (from the top) that pick the bucket. */
  readonly bits: number;
  /** Bytes of the hash (from the bottom) stored as the field: they cover every bit the bucket doesn't. */
  readonly fieldBytes: number;
  /** What the scripts put before a bucket's number (hex) to name its key. */
  readonly keyPrefix: string;

  constructor(readonly prefix: string, expectedSeries: number) {
    const wanted = Math.ceil(Math.log2(Math.max(1, expectedSeries / TARGET_BUCKET_FILL)));
    this.bits = Math.min(MAX_BUCKET_BITS, Math.max(MIN_BUCKET_BITS, wanted));
    this.fieldBytes = Math.ceil((64 - this.bits) / 8);
    this.keyPrefix = `${prefix}:${this.bits}:`;
  }

  get buckets(): number {
    return 2 ** this.bits;
  }

  key(bucket: number): string {
    return `${this.keyPrefix}${bucket.toString(16)}`;
  }

  /**
   * The hashes grouped by bucket and packed for the scripts: per group its bucket number, field
   * count and fields end to end, a thousand groups per chunk (one script call each). A bucket gets
   * several groups past MAX_GROUP_FIELDS (a batch far larger than the layout expects), since the
   * scripts pass a group's fields to one HSET/HMGET through Lua's unpack, which takes ~8000.
   * `order` lists the input positions in packed order: the scripts answer in that order.
   */
  group(hashes: readonly bigint[]): Grouped {
    const n = hashes.length;
    // The hashes as native 64-bit words (negative input wraps to its 64-bit pattern), read back
    // as halves: no BigInt arithmetic per hash.
    const words = new BigUint64Array(n);
    for (let i = 0; i < n; i++) words[i] = hashes[i];
    const halves = new Uint32Array(words.buffer);
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      hi[i] = halves[2 * i + HIGH_HALF];
      lo[i] = halves[2 * i + 1 - HIGH_HALF];
    }
    return this.groupPairs(hi, lo, n);
  }

  /** `group` for `n` hashes given as uint32 halves (`hi[i]`, `lo[i]`). */
  groupPairs(hi: Uint32Array, lo: Uint32Array, n: number): Grouped {
    const w = this.fieldBytes;
    const shift = 32 - this.bits;
    if (n >= POSITION_SPAN) throw new RangeError(`redis dedup: a batch of ${n} hashes is past ${POSITION_SPAN}`);
    // Sorting bucket × 2^29 + position (exact in a double below 2^53) groups by bucket and keeps
    // input order within a bucket, without a Map or an array per bucket.
    const sortKeys = new Float64Array(n);
    for (let i = 0; i < n; i++) sortKeys[i] = (hi[i] >>> shift) * POSITION_SPAN + i;
    sortKeys.sort();
    const order = new Uint32Array(n);
    // At worst every hash is a group of its own.
    const packed = Buffer.allocUnsafe(n * (GROUP_HEADER_BYTES + w));
    const chunks: PackedChunk[] = [];
    let at = 0;
    let chunkStart = 0;
    let chunkGroups = 0;
    let chunkFields = 0;
    let countAt = -1;
    let groupBucket = -1;
    let groupFields = 0;
    for (let p = 0; p < n; p++) {
      const i = sortKeys[p] % POSITION_SPAN;
      const bucket = (sortKeys[p] - i) / POSITION_SPAN;
      order[p] = i;
      if (bucket !== groupBucket || groupFields === MAX_GROUP_FIELDS) {
        if (countAt >= 0) packed.writeUInt16BE(groupFields, countAt);
        if (chunkGroups === BUCKETS_PER_SCRIPT) {
          chunks.push({ packed: packed.subarray(chunkStart, at), groups: chunkGroups, fields: chunkFields });
          chunkStart = at;
          chunkGroups = 0;
          chunkFields = 0;
        }
        packed.writeUInt32BE(bucket, at);
        countAt = at + 4;
        at += GROUP_HEADER_BYTES;
        groupBucket = bucket;
        groupFields = 0;
        chunkGroups++;
      }
      // The low `w` bytes of the hash, most significant first: the low w - 4 bytes of the high
      // half (w is 5 to 8: the bucket takes at most 24 bits), then the low half.
      const high = hi[i];
      for (let k = 8 * (w - 5); k >= 0; k -= 8) packed[at++] = (high >>> k) & 0xff;
      const low = lo[i];
      packed[at++] = low >>> 24;
      packed[at++] = (low >>> 16) & 0xff;
      packed[at++] = (low >>> 8) & 0xff;
      packed[at++] = low & 0xff;
      groupFields++;
      chunkFields++;
    }
    if (countAt >= 0) {
      packed.writeUInt16BE(groupFields, countAt);
      chunks.push({ packed: packed.subarray(chunkStart, at), groups: chunkGroups, fields: chunkFields });
    }
    return { chunks, order };
  }

  /** Where one hash is stored (for tests and debugging). */
  locate(hash: bigint): { key: string; field: Buffer } {
    const raw = Buffer.allocUnsafe(8);
    raw.writeBigUInt64BE(BigInt.asUintN(64, hash));
    return { key: this.key(raw.readUInt32BE(0) >>> (32 - this.bits)), field: raw.subarray(8 - this.fieldBytes) };
  }
}

/** Which 32-bit half of a native 64-bit word holds its high bits. */
const HIGH_HALF = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Positions within a batch in a group sort key (see `group`): 2^29, so bucket (< 2^24) × this stays exact. */
const POSITION_SPAN = 2 ** 29;

/**
 * Reads a lookup's answer: `expected` values joined by ',', each decimal seconds or '' (absent).
 * Calls `found` with each present one in 1..2^32-1 (anything else counts as absent); returns how
 * many values there were (-1 when the answer is not of that shape).
 */
export function readStoredTimes(values: Buffer, expected: number, found: (field: number, seconds: number) => void): number {
  let field = 0;
  let seconds = 0;
  let digits = 0;
  let valid = true;
  for (let i = 0; i <= values.length; i++) {
    const c = i < values.length ? values[i] : 0x2c;
    if (c === 0x2c) {
      if (field >= expected) return -1;
      if (valid && digits > 0 && digits <= 10 && seconds > 0 && seconds <= 0xffffffff) found(field, seconds);
      field++;
      seconds = 0;
      digits = 0;
      valid = true;
    } else if (c >= 0x30 && c <= 0x39) {
      seconds = seconds * 10 + (c - 0x30);
      digits++;
    } else {
      valid = false;
    }
  }
  return field;
}

/** The bucket of each group of a packed chunk, in order. */
function groupBuckets(chunk: PackedChunk, fieldBytes: number): Uint32Array {
  const buckets = new Uint32Array(chunk.groups);
  for (let g = 0, at = 0; g < chunk.groups; g++) {
    buckets[g] = chunk.packed.readUInt32BE(at);
    at += GROUP_HEADER_BYTES + fieldBytes * chunk.packed.readUInt16BE(at + 4);
  }
  return buckets;
}

/** The groups of one script call, packed: per group bucket (u32 BE), field count (u16 BE), the fields. */
export interface PackedChunk {
  packed: Buffer;
  groups: number;
  fields: number;
}

export interface Grouped {
  chunks: PackedChunk[];
  /** For each packed field in turn (chunk by chunk), its position in the input. */
  order: Uint32Array;
}

/**
 * Each bucket is one HGET/HMGET (lookup) or HSET (mark; PEXPIRE when the bucket's expiry is not
 * known), run server-side by a script over up to a thousand buckets. ioredis spends several µs of
 * CPU on each argument it sends and each reply element it parses, so a call carries everything
 * packed in one binary argument (bucket numbers, field counts, fields; the script names the keys)
 * and a lookup answers in one string: a 500-series lookup and mark cost a few arguments instead
 * of a thousand keys and 500 replies. The scripts do as little per field as they can (Redis
 * spends as long on the Lua around a call as on the call). They name keys they are not given in
 * KEYS: fine on a single server or a primary, which is what the resource supports (not Redis
 * Cluster).
 *
 * ARGV[1]: key prefix (`<prefix>:<bits>:`); ARGV[2]: field width; ARGV[3]: the packed groups.
 * Returns each field's stored value (decimal seconds, '' if absent), in packed order, joined by ','.
 */
export const LOOKUP_SCRIPT = `
local prefix, w, packed = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out, k, pos, len = {}, 0, 1, #packed
local call, sub, fmt, sunpack = redis.call, string.sub, string.format, struct.unpack
while pos < len do
  local bucket, n
  bucket, n, pos = sunpack('>I4H', packed, pos)
  local key = prefix .. fmt('%x', bucket)
  if n == 1 then
    k = k + 1
    out[k] = call('HGET', key, sub(packed, pos, pos + w - 1)) or ''
    pos = pos + w
  else
    local fields = {}
    for j = 1, n do
      fields[j] = sub(packed, pos, pos + w - 1)
      pos = pos + w
    end
    local values = call('HMGET', key, unpack(fields))
    for j = 1, n do
      k = k + 1
      out[k] = values[j] or ''
    end
  end
end
return table.concat(out, ',')`;

/**
 * As LOOKUP_SCRIPT, then ARGV[4]: the time to store (decimal seconds); ARGV[5]: one byte per
 * group, 1 where the key is to be given a lifetime (the tier does not know its expiry), else 0;
 * ARGV[6]: those groups' lifetimes in ms (a BE double each, in order). For each of them, returns
 * when its key expires (PEXPIRETIME, a BE double, ms).
 */
export const MARK_SCRIPT = `
local prefix, w, packed, at, flags, lifetimes = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local pos, len, g, t, out = 1, #packed, 0, 0, {}
local call, sub, fmt, byte, sunpack = redis.call, string.sub, string.format, string.byte, struct.unpack
while pos < len do
  local bucket, n
  bucket, n, pos = sunpack('>I4H', packed, pos)
  g = g + 1
  local key = prefix .. fmt('%x', bucket)
  if n == 1 then
    call('HSET', key, sub(packed, pos, pos + w - 1), at)
    pos = pos + w
  else
    local args = {}
    for j = 1, n do
      args[2 * j - 1] = sub(packed, pos, pos + w - 1)
      args[2 * j] = at
      pos = pos + w
    end
    call('HSET', key, unpack(args))
  end
  if byte(flags, g) == 1 then
    t = t + 1
    call('PEXPIRE', key, sunpack('>d', lifetimes, 8 * t - 7), 'NX')
    out[t] = struct.pack('>d', call('PEXPIRETIME', key))
  end
end
return table.concat(out)`;

/** A script and the ioredis commands that run it (a lookup's answer is binary: the Buffer variants). */
interface Script {
  text: string;
  sha: string;
  eval: string;
  evalsha: string;
}

const script = (text: string, binaryReply: boolean): Script => ({
  text,
  sha: createHash('sha1').update(text).digest('hex'),
  eval: binaryReply ? 'evalBuffer' : 'eval',
  evalsha: binaryReply ? 'evalshaBuffer' : 'evalsha',
});
const LOOKUP = script(LOOKUP_SCRIPT, true);
const MARK = script(MARK_SCRIPT, true);

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
 * call per thousand buckets (two round trips the first time after Redis lost its script cache). Failures never reach the caller: the tier turns unhealthy, answers
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

  /**
   * Per bucket, when its key expires (Redis' clock, ms), as the mark script answered; 0 when not
   * known. Forgotten on every new connection (Redis may have restarted and lost the keys). Only
   * for layouts of at most 2^20 buckets (8 MiB); larger ones set the expiry on every write.
   */
  private readonly expiresAt: Float64Array | undefined;

  constructor(private readonly options: RedisDedupTierOptions) {
    this.name = options.name;
    this.expiresAt = options.layout.bits <= MAX_TRACKED_BUCKET_BITS ? new Float64Array(options.layout.buckets) : undefined;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    options.client.on('ready', () => {
      this.failing = false;
      this.expiresAt?.fill(0);
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
    const times = await this.lookupGrouped(this.options.layout.group(hashes), hashes.length);
    for (let i = 0; i < times.length; i++) if (!Number.isNaN(times[i])) answers[i] = times[i];
    return answers;
  }

  async lookupPairs(hi: Uint32Array, lo: Uint32Array, count: number): Promise<Float64Array> {
    if (count === 0 || !this.healthy()) return new Float64Array(count).fill(NaN);
    return this.lookupGrouped(this.options.layout.groupPairs(hi, lo, count), count);
  }

  async mark(hashes: readonly bigint[], at: number): Promise<void> {
    if (hashes.length === 0 || !this.healthy()) return;
    await this.markGrouped(this.options.layout.group(hashes), at);
  }

  async markPairs(hi: Uint32Array, lo: Uint32Array, count: number, at: number): Promise<void> {
    if (count === 0 || !this.healthy()) return;
    await this.markGrouped(this.options.layout.groupPairs(hi, lo, count), at);
  }

  /** Each hash's stored time (ms), NaN when unknown, in input order. */
  private async lookupGrouped({ chunks, order }: Grouped, count: number): Promise<Float64Array> {
    const answers = new Float64Array(count).fill(NaN);
    const { layout } = this.options;
    let replies: PipelineReplies;
    try {
      replies = await this.runScripts(LOOKUP, chunks.map((chunk) => [layout.keyPrefix, layout.fieldBytes, chunk.packed]));
    } catch (err) {
      this.fail('lookup', err);
      return answers;
    }
    const staleAt = this.now() - this.options.ttl;
    let p = 0;
    replies.forEach(([err, reply], c) => {
      const fields = chunks[c].fields;
      const values = reply as Buffer;
      const read = err || !Buffer.isBuffer(values) ? -1 : readStoredTimes(values, fields, (f, seconds) => {
        // Older than ttl: the bucket outlived it (jitter) but the entry is no longer trusted.
        if (seconds * 1000 > staleAt) answers[order[p + f]] = seconds * 1000;
      });
      if (read !== fields) this.replyError('lookup', err ?? new Error(`redis: lookup answered ${describeReply(reply)} for ${fields} fields`));
      p += fields;
    });
    return answers;
  }

  private async markGrouped({ chunks }: Grouped, at: number): Promise<void> {
    // Rounded down: a time read back is never later than the real one, so it errs towards resending.
    const seconds = String(Math.floor(at / 1000));
    const { layout } = this.options;
    // The script sets each bucket's lifetime with PEXPIRE NX: it runs from the bucket's creation and
    // is never extended, so entries of series that stopped (churn) leave with their bucket instead
    // of piling up in one that later writes keep alive. A bucket this tier saw get its expiry
    // (answered by the script) is given none until shortly before then: no PEXPIRE per write.
    const now = this.now();
    const ttlSet: number[][] = [];
    const argvs = chunks.map((chunk) => {
      const flags = Buffer.allocUnsafe(chunk.groups);
      const buckets = groupBuckets(chunk, layout.fieldBytes);
      const asked: number[] = [];
      for (let g = 0; g < chunk.groups; g++) {
        const known = this.expiresAt !== undefined && this.expiresAt[buckets[g]] - EXPIRY_MARGIN_MS > now;
        flags[g] = known ? 0 : 1;
        if (!known) asked.push(buckets[g]);
      }
      const lifetimes = Buffer.allocUnsafe(8 * asked.length);
      for (let i = 0; i < asked.length; i++) lifetimes.writeDoubleBE(this.bucketLifetime(), 8 * i);
      ttlSet.push(asked);
      return [layout.keyPrefix, layout.fieldBytes, chunk.packed, seconds, flags, lifetimes];
    });
    try {
      const replies = await this.runScripts(MARK, argvs);
      replies.forEach(([err, reply], c) => {
        const expiries = reply as Buffer;
        if (err || !Buffer.isBuffer(expiries) || expiries.length !== 8 * ttlSet[c].length) {
          this.replyError('mark', err ?? new Error(`redis: mark answered ${describeReply(reply)} for ${ttlSet[c].length} expiries`));
          return;
        }
        // -1 (no expiry) or -2 (no key) are never in the future: asked again next time.
        if (this.expiresAt !== undefined) ttlSet[c].forEach((bucket, i) => (this.expiresAt![bucket] = expiries.readDoubleBE(8 * i)));
      });
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

  /**
   * One script call per argument list, by SHA; if Redis lost its script cache (a restart, SCRIPT
   * FLUSH), the same calls once more with the script's text, which caches it again.
   */
  private async runScripts(script: Script, argvs: Array<Array<string | number | Buffer>>): Promise<PipelineReplies> {
    const replies = await this.send(argvs.map((argv): RedisCommand => [script.evalsha, script.sha, 0, ...argv]));
    if (!replies.some(([err]) => err?.message.startsWith('NOSCRIPT'))) return replies;
    return this.send(argvs.map((argv): RedisCommand => [script.eval, script.text, 0, ...argv]));
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

function describeReply(reply: unknown): string {
  return Buffer.isBuffer(reply) ? `${reply.length} bytes` : typeof reply;
}

function isReplyError(err: Error): boolean {
  return err.name === 'ReplyError';
}
