import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseReplies, type RespReplies } from '../clients/redis/resp-replies.js';
import { decodeCommands } from '../clients/redis/resp.test-support.js';
import { DownstreamError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { BucketLayout } from './bucket-layout.js';
import { dedupTierMetrics, readStoredSeconds, RedisDedupTier, type RedisDedupClient } from './redis-tier.js';
import { lookupHashes, markHashes } from './tier.test-support.js';

const TTL = 3_600_000;
const NOW = 1_800_000_000_000;

/**
 * A tiny in-memory Redis behind the tier's client interface: decodes the pipeline (arrays of bulk
 * strings), runs PING, HGET, HMGET, HSET, PEXPIRE (NX) and PEXPIRETIME on Maps and answers in RESP,
 * read back with the real reply parser. Keys expire against `now`.
 */
class FakeRedis extends EventEmitter implements RedisDedupClient {
  status = 'ready';
  /** key -> field (hex) -> value */
  readonly hashes = new Map<string, Map<string, string>>();
  /** key -> when it expires (ms) */
  readonly expiries = new Map<string, number>();
  now = NOW;
  /** Every pipeline exec was called with, as commands of text arguments (fields as hex), whether or not it was answered. */
  readonly sent: string[][][] = [];
  /** What exec does: answer, never answer (a hung Redis), or reject (the connection is gone). */
  mode: 'answer' | 'hang' | 'reject' = 'answer';
  /** Raw RESP to send instead of a command's real reply (the command is not run); undefined: the real one. */
  replace: (command: string[]) => string | undefined = () => undefined;
  /** Pipelines that were not well-formed commands, or whose reply count did not match them (checked after each test). */
  readonly problems: string[] = [];

  constructor() {
    super();
    fakes.push(this);
  }

  exec(payload: Buffer, replies: number): Promise<RespReplies> {
    let commands: Buffer[][];
    try {
      commands = decodeCommands(payload);
    } catch (err) {
      this.problems.push(String(err)); // the tier would only see a failed call: make it fail the test
      throw err;
    }
    this.sent.push(commands.map(render));
    if (commands.length !== replies) this.problems.push(`${commands.length} commands sent, ${replies} replies expected`);
    if (this.mode === 'hang') return new Promise(() => {});
    if (this.mode === 'reject') return Promise.reject(new DownstreamError(`redis: not connected (${this.status})`));
    const answer = commands.map((command) => this.replace(render(command)) ?? this.run(command)).join('');
    return Promise.resolve(parseReplies(Buffer.from(answer, 'latin1'), replies));
  }

  /** The commands sent so far, by name. */
  names(): string[] {
    return this.sent.flat().map((c) => c[0]);
  }

  /** [key, lifetime] of every PEXPIRE sent so far. */
  lifetimes(): Array<[string, number]> {
    return this.sent.flat().filter((c) => c[0] === 'PEXPIRE').map((c) => [c[1], Number(c[2])]);
  }

  private run([name, ...a]: Buffer[]): string {
    const command = name.toString();
    const key = a[0]?.toString('utf8') ?? '';
    const wrongArity = `-ERR wrong number of arguments for '${command}' command\r\n`;
    switch (command) {
      case 'PING':
        return a.length === 0 ? '+PONG\r\n' : wrongArity;
      case 'HGET':
        return a.length === 2 ? bulk(this.hash(key)?.get(a[1].toString('hex'))) : wrongArity;
      case 'HMGET':
        if (a.length < 2) return wrongArity;
        return `*${a.length - 1}\r\n${a.slice(1).map((f) => bulk(this.hash(key)?.get(f.toString('hex')))).join('')}`;
      case 'HSET': {
        if (a.length < 3 || a.length % 2 === 0) return wrongArity;
        const hash = this.hash(key) ?? new Map<string, string>();
        this.hashes.set(key, hash);
        let added = 0;
        for (let j = 1; j < a.length; j += 2) {
          if (!hash.has(a[j].toString('hex'))) added++;
          hash.set(a[j].toString('hex'), a[j + 1].toString('latin1'));
        }
        return `:${added}\r\n`;
      }
      case 'PEXPIRE':
        // Only the NX form: the tier must never extend a bucket's lifetime.
        if (a.length !== 3 || a[2].toString() !== 'NX') return wrongArity;
        if (!this.hash(key) || this.expiries.has(key)) return ':0\r\n';
        this.expiries.set(key, this.now + Number(a[1].toString()));
        return ':1\r\n';
      case 'PEXPIRETIME':
        if (a.length !== 1) return wrongArity;
        return `:${!this.hash(key) ? -2 : (this.expiries.get(key) ?? -1)}\r\n`;
      default:
        return `-ERR unknown command '${command}'\r\n`;
    }
  }

  /** A live key's hash (an expired key is dropped first, as Redis does on access). */
  private hash(key: string): Map<string, string> | undefined {
    if ((this.expiries.get(key) ?? Infinity) <= this.now) {
      this.hashes.delete(key);
      this.expiries.delete(key);
    }
    return this.hashes.get(key);
  }
}

const fakes: FakeRedis[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const fake of fakes.splice(0)) expect(fake.problems).toEqual([]);
});

function bulk(value: string | undefined): string {
  return value === undefined ? '$-1\r\n' : `$${Buffer.byteLength(value, 'latin1')}\r\n${value}\r\n`;
}

/** A command's arguments as text: fields (of HGET, HMGET, HSET) in hex, the rest as UTF-8. */
function render([name, ...a]: Buffer[]): string[] {
  const command = name.toString();
  const isField = (i: number) => i > 0 && (command === 'HGET' || command === 'HMGET' || (command === 'HSET' && i % 2 === 1));
  return [command, ...a.map((arg, i) => (isField(i) ? arg.toString('hex') : arg.toString('utf8')))];
}


/** A deterministic stand-in for Math.random (a small LCG). */
function seededRandom(seed = 1): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

function fakeTier(redis: FakeRedis, options: { registry?: Registry; now?: () => number; expected?: number; ttlJitter?: number; random?: () => number } = {}) {
  const registry = options.registry ?? new Registry();
  const layout = new BucketLayout('p', options.expected ?? 1000);
  const tier = new RedisDedupTier({
    name: 'shared',
    client: redis,
    layout,
    ttl: TTL,
    ttlJitter: options.ttlJitter ?? 0.5,
    commandTimeout: 50,
    probeInterval: 20,
    logger: silentLogger(),
    metrics: dedupTierMetrics(registry),
    now: options.now ?? (() => NOW),
    random: options.random ?? seededRandom(),
  });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await registry.getSingleMetric(name)!.get()).values;
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  return { tier, layout, metric };
}

/** A hash in bucket `b` of a 4-bit layout (the top hex digit), `i` telling series of a bucket apart. */
const inBucket = (b: number, i: number) => (BigInt(b) << 60n) | BigInt(i);
/** Hashes spread over the whole 64-bit range, in no bucket order. */
const spreadHashes = (n: number) => Array.from({ length: n }, (_, i) => BigInt.asUintN(64, BigInt(i + 1) * 0x9e37_79b9_7f4a_7c15n));

describe('readStoredSeconds', () => {
  const read = (text: string) => readStoredSeconds(Buffer.from(`xx${text}yy`), 2, 2 + text.length);

  it('reads decimal seconds from 1 to 2^32 - 1, only within the bounds given', () => {
    expect(read('1')).toBe(1);
    expect(read('1763720000')).toBe(1763720000);
    expect(read('4294967295')).toBe(4294967295);
  });

  it('rejects empty, zero, out-of-range, garbled and nil values', () => {
    for (const text of ['', '0', '4294967296', '12345678901', '00000000001', '12a', '-5', '+5', ' 5']) expect(read(text), text).toBeNaN();
    expect(readStoredSeconds(Buffer.from('123'), -1, -1)).toBeNaN(); // a nil bulk string
  });
});

describe('RedisDedupTier', () => {
  it('sends a whole lookup, and a whole mark, as one pipeline whatever the batch size', async () => {
    const redis = new FakeRedis();
    const { tier, layout } = fakeTier(redis, { expected: 1_000_000 }); // 14 bits
    const hashes = Array.from({ length: 5000 }, (_, i) => BigInt(i) << 50n); // 5000 buckets
    await markHashes(tier, hashes, NOW - 60_000);
    expect(redis.sent).toHaveLength(1);
    expect(redis.sent[0].filter((c) => c[0] === 'HSET')).toHaveLength(5000);
    expect(await lookupHashes(tier, hashes)).toEqual(hashes.map(() => NOW - 60_000));
    expect(redis.sent).toHaveLength(2);
    expect(redis.sent[1]).toEqual(hashes.map((h) => ['HGET', layout.locate(h).key, layout.locate(h).field.toString('hex')]));

    // Thousands of series of one bucket: still one command.
    const oneBucket = Array.from({ length: 3000 }, (_, i) => BigInt(i + 1)); // bucket 0, none marked
    expect(await lookupHashes(tier, oneBucket)).toEqual(oneBucket.map(() => undefined));
    expect(redis.sent[2].map((c) => [c[0], c.length])).toEqual([['HMGET', 3002]]);
  });

  it('treats a stored time older than ttl as unknown', async () => {
    const redis = new FakeRedis();
    const { tier } = fakeTier(redis);
    await markHashes(tier, [1n], NOW - TTL);
    await markHashes(tier, [2n], NOW - TTL + 1000);
    expect(await lookupHashes(tier, [1n, 2n])).toEqual([undefined, NOW - TTL + 1000]);
  });

  it('marks with the time in whole seconds (rounded down) and bucket lifetimes between ttl and ttl × (1 + jitter)', async () => {
    const redis = new FakeRedis();
    const { tier } = fakeTier(redis);
    const hashes = Array.from({ length: 200 }, (_, i) => inBucket(i % 16, i));
    await markHashes(tier, hashes, NOW + 999);
    const hsets = redis.sent[0].filter((c) => c[0] === 'HSET');
    expect(hsets).toHaveLength(16);
    expect(hsets.flatMap((c) => c.filter((_, i) => i >= 2 && i % 2 === 1))).toEqual(Array.from({ length: 200 }, () => String(NOW / 1000)));
    const lifetimes = redis.lifetimes().map(([, ms]) => ms);
    expect(lifetimes).toHaveLength(16);
    expect(lifetimes.every((ms) => Number.isInteger(ms) && ms >= TTL && ms <= TTL * 1.5)).toBe(true);
    expect(new Set(lifetimes).size).toBeGreaterThan(1); // jittered, not all alike
    expect(await lookupHashes(tier, [hashes[0]])).toEqual([NOW]);
  });

  it('gives a bucket a lifetime only until it knows when the bucket expires, and again near then or after a reconnect', async () => {
    const redis = new FakeRedis();
    let now = NOW;
    const { tier, layout } = fakeTier(redis, { now: () => now, ttlJitter: 0 });
    const key = (b: number) => layout.key(b);
    await markHashes(tier, [inBucket(1, 1), inBucket(2, 1)], now);
    expect(redis.lifetimes()).toEqual([[key(1), TTL], [key(2), TTL]]);
    // Known to expire at NOW + TTL: no lifetime with later writes, also for a new series of the bucket.
    await markHashes(tier, [inBucket(1, 2), inBucket(2, 2), inBucket(3, 1)], now);
    expect(redis.lifetimes().slice(2)).toEqual([[key(3), TTL]]);
    // Within a minute of that expiry, the bucket is given one again (NX: Redis keeps its own).
    now = redis.now = NOW + TTL - 30_000;
    await markHashes(tier, [inBucket(1, 3), inBucket(2, 3)], now);
    expect(redis.lifetimes().slice(3)).toEqual([[key(1), TTL], [key(2), TTL]]);
    expect(redis.expiries.get(key(1))).toBe(NOW + TTL);
    // A new connection (Redis may have restarted): every bucket is given one again, also one whose
    // expiry was known and far off.
    await markHashes(tier, [inBucket(4, 1)], now);
    await markHashes(tier, [inBucket(4, 2)], now);
    expect(redis.lifetimes().slice(5)).toEqual([[key(4), TTL]]);
    redis.emit('ready');
    await markHashes(tier, [inBucket(4, 3)], now);
    expect(redis.lifetimes().slice(6)).toEqual([[key(4), TTL]]);
    expect(await lookupHashes(tier, [inBucket(1, 1), inBucket(1, 2), inBucket(1, 3), inBucket(4, 3)])).toEqual([NOW, NOW, now, now]);
  });

  it('asks for the expiry again when Redis says the bucket has none', async () => {
    const redis = new FakeRedis();
    const { tier } = fakeTier(redis);
    // PEXPIRETIME -1: a key without an expiry (persisted by someone, or the PEXPIRE lost).
    redis.replace = (c) => (c[0] === 'PEXPIRETIME' ? ':-1\r\n' : undefined);
    await markHashes(tier, [inBucket(1, 1)], NOW);
    redis.replace = () => undefined;
    await markHashes(tier, [inBucket(1, 2)], NOW);
    await markHashes(tier, [inBucket(1, 3)], NOW);
    expect(redis.lifetimes()).toHaveLength(2);
  });

  it('sets the expiry on every write for layouts too wide to track buckets', async () => {
    const redis = new FakeRedis();
    const { tier } = fakeTier(redis, { expected: 500_000_000 }); // 23 bits
    await markHashes(tier, [1n], NOW);
    await markHashes(tier, [2n], NOW);
    expect(redis.names()).toEqual(['HSET', 'PEXPIRE', 'PEXPIRETIME', 'HSET', 'PEXPIRE', 'PEXPIRETIME']);
  });

  it('gives each series its own answer back, whatever order the buckets went in', async () => {
    const redis = new FakeRedis();
    const { tier } = fakeTier(redis);
    const hashes = spreadHashes(3000);
    await markHashes(tier, hashes.filter((_, i) => i % 3 === 0), NOW - 10_000);
    await markHashes(tier, hashes.filter((_, i) => i % 3 === 1), NOW - 20_000);
    const answers = await lookupHashes(tier, hashes);
    answers.forEach((at, i) => expect(at).toBe([NOW - 10_000, NOW - 20_000, undefined][i % 3]));
    expect(redis.sent[2].every((c) => c[0] === 'HMGET')).toBe(true); // ~190 series a bucket
  });

  it('looks up and marks hashes given as uint32 halves, one answer per hash in input order; nothing sent for none', async () => {
    const redis = new FakeRedis();
    const { tier } = fakeTier(redis);
    const hashes = spreadHashes(600);
    const hi = Uint32Array.from(hashes, (h) => Number(h >> 32n));
    const lo = Uint32Array.from(hashes, (h) => Number(h & 0xffffffffn));
    await tier.markPairs(hi, lo, 200, NOW - 10_000); // the first 200
    await markHashes(tier, hashes.slice(200, 400), NOW - 20_000);
    const pairs = await tier.lookupPairs(hi, lo, 600);
    const bigints = await lookupHashes(tier, hashes);
    for (let i = 0; i < 600; i++) {
      const expected = i < 200 ? NOW - 10_000 : i < 400 ? NOW - 20_000 : undefined;
      expect(bigints[i]).toBe(expected);
      expect(pairs[i]).toBe(expected ?? NaN);
    }
    const sentBefore = redis.sent.length;
    expect(await tier.lookupPairs(hi, lo, 0)).toEqual(new Float64Array(0));
    expect(await lookupHashes(tier, [])).toEqual([]);
    await markHashes(tier, [], NOW);
    expect(redis.sent).toHaveLength(sentBefore); // nothing to ask: nothing sent
  });

  it('answers NaN (unknown) to a lookup by halves when Redis hangs, and sends nothing but pings while down', async () => {
    vi.useFakeTimers();
    const redis = new FakeRedis();
    redis.mode = 'hang';
    const { tier } = fakeTier(redis);
    const answers = tier.lookupPairs(Uint32Array.of(1, 2), Uint32Array.of(3, 4), 2);
    await vi.advanceTimersByTimeAsync(50);
    expect([...(await answers)]).toEqual([NaN, NaN]);
    expect(tier.healthy()).toBe(false);
    const sentBefore = redis.sent.length;
    expect([...(await tier.lookupPairs(Uint32Array.of(1), Uint32Array.of(3), 1))]).toEqual([NaN]);
    await tier.markPairs(Uint32Array.of(1), Uint32Array.of(3), 1, NOW);
    await lookupHashes(tier, [1n]);
    await markHashes(tier, [1n], NOW);
    await vi.advanceTimersByTimeAsync(200); // a few probes
    expect(redis.sent.length).toBeGreaterThan(sentBefore);
    expect(redis.sent.slice(sentBefore)).toEqual(redis.sent.slice(sentBefore).map(() => [['PING']]));
    tier.stop();
  });

  it('answers unknown within the command timeout when Redis hangs, goes down, and comes back once a ping gets through', async () => {
    vi.useFakeTimers();
    const redis = new FakeRedis();
    const { tier, metric } = fakeTier(redis);
    await markHashes(tier, [1n], NOW);
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(1);

    redis.mode = 'hang';
    let answered: Array<number | undefined> | undefined;
    void lookupHashes(tier, [1n, 2n]).then((a) => (answered = a));
    await vi.advanceTimersByTimeAsync(49);
    expect(answered).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(answered).toEqual([undefined, undefined]);
    expect(tier.healthy()).toBe(false);
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(0);
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'lookup' })).toBe(1);

    // The probe's pings hang too: still down.
    await vi.advanceTimersByTimeAsync(500);
    expect(tier.healthy()).toBe(false);
    expect(redis.names().at(-1)).toBe('PING');

    // A ping answered with an error (a Redis still loading its data) does not bring it back.
    redis.mode = 'answer';
    redis.replace = (c) => (c[0] === 'PING' ? '-LOADING Redis is loading the dataset in memory\r\n' : undefined);
    await vi.advanceTimersByTimeAsync(100);
    expect(redis.names().at(-1)).toBe('PING');
    expect(tier.healthy()).toBe(false);

    redis.replace = () => undefined;
    const sentBefore = redis.sent.length;
    await vi.advanceTimersByTimeAsync(100);
    expect(tier.healthy()).toBe(true);
    expect(redis.sent.slice(sentBefore)).toEqual([[['PING']]]); // one ping got through, and that was enough
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(1);
    expect(await lookupHashes(tier, [1n])).toEqual([NOW]);
    tier.stop();
  });

  it('follows the connection: down when exec is refused or the connection closes, up again on a new connection', async () => {
    vi.useFakeTimers();
    const redis = new FakeRedis();
    redis.mode = 'reject';
    const { tier, metric } = fakeTier(redis);
    await markHashes(tier, [1n], NOW);
    expect(tier.healthy()).toBe(false);
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'mark' })).toBe(1);

    redis.status = 'reconnecting';
    redis.emit('close');
    redis.mode = 'answer';
    const sentBefore = redis.sent.length;
    await vi.advanceTimersByTimeAsync(200); // a few probe periods: no ping while disconnected
    expect(tier.healthy()).toBe(false);
    expect(redis.sent).toHaveLength(sentBefore);
    expect(await lookupHashes(tier, [1n])).toEqual([undefined]);
    expect(redis.sent).toHaveLength(sentBefore);

    redis.status = 'ready';
    redis.emit('ready');
    expect(tier.healthy()).toBe(true);
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(1);

    // A connection that closes while the tier is healthy: down at once, without an error of its own.
    redis.status = 'reconnecting';
    redis.emit('close');
    expect(tier.healthy()).toBe(false);
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(0);
    redis.status = 'ready';
    redis.emit('ready');
    expect(tier.healthy()).toBe(true);
    tier.stop();
    expect(tier.healthy()).toBe(false);
  });

  it('counts an error Redis replied to one group without going down; the other groups still answer', async () => {
    const redis = new FakeRedis();
    const { tier, layout, metric } = fakeTier(redis);
    const hashes = [inBucket(1, 1), inBucket(2, 1), inBucket(2, 2), inBucket(3, 1), inBucket(3, 2)];
    await markHashes(tier, hashes, NOW);
    // The middle group (an HMGET of two) answers an error: one value where two or three were due.
    redis.replace = (c) => (c[1] === layout.key(2) ? '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n' : undefined);
    expect(await lookupHashes(tier, hashes)).toEqual([NOW, undefined, undefined, NOW, NOW]);
    expect(tier.healthy()).toBe(true);
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'lookup' })).toBe(1);

    // The same for a mark: its other buckets are written.
    await markHashes(tier, [inBucket(2, 3), inBucket(4, 1)], NOW + 5000);
    expect(tier.healthy()).toBe(true);
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'mark' })).toBe(1);
    redis.replace = () => undefined;
    expect(await lookupHashes(tier, [inBucket(2, 3), inBucket(4, 1)])).toEqual([undefined, NOW + 5000]);
  });

  it('counts replies of the wrong shape, and keeps reading the groups after them', async () => {
    const redis = new FakeRedis();
    const { tier, layout, metric } = fakeTier(redis);
    const hashes = [inBucket(1, 1), inBucket(2, 1), inBucket(2, 2), inBucket(3, 1), inBucket(4, 1), inBucket(4, 2)];
    await markHashes(tier, hashes, NOW);
    const s = String(NOW / 1000);
    const wrong: Record<string, string> = {
      [layout.key(2)]: `*1\r\n$${s.length}\r\n${s}\r\n`, // HMGET of two answered with one value
      [layout.key(3)]: ':1\r\n', // HGET answered with an integer
    };
    redis.replace = (c) => (c[0] === 'PING' ? undefined : wrong[c[1]]);
    expect(await lookupHashes(tier, hashes)).toEqual([NOW, undefined, undefined, undefined, NOW, NOW]);
    // One lookup with two bad answers: one failed operation.
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'lookup' })).toBe(1);

    // An HMGET element that is itself an array: skipped whole, the groups after it still read right.
    redis.replace = (c) => (c[1] === layout.key(2) ? `*2\r\n*2\r\n$${s.length}\r\n${s}\r\n$${s.length}\r\n${s}\r\n$-1\r\n` : undefined);
    expect(await lookupHashes(tier, hashes)).toEqual([NOW, undefined, undefined, NOW, NOW, NOW]);
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'lookup' })).toBe(2);

    // PEXPIRETIME answered with something else than an integer.
    redis.replace = (c) => (c[0] === 'PEXPIRETIME' ? '$2\r\n12\r\n' : undefined);
    await markHashes(tier, [inBucket(5, 1)], NOW);
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'mark' })).toBe(1);
    expect(tier.healthy()).toBe(true);
  });

  it('expects exactly the replies its commands bring, even when a lifetime draw is not a number', async () => {
    // A reply count off by one would hand the next pipeline's replies to this one: times credited
    // to the wrong series. The fake checks commands against expected replies after each test.
    const redis = new FakeRedis();
    const { tier } = fakeTier(redis, { random: () => NaN });
    const marked = spreadHashes(40);
    await markHashes(tier, marked, NOW);
    // Every new bucket still gets a lifetime: ttl, when the jitter draw is unusable.
    expect(redis.lifetimes().length).toBeGreaterThan(10);
    expect(redis.lifetimes().map(([, ms]) => ms)).toEqual(redis.lifetimes().map(() => TTL));
    const others = spreadHashes(80).slice(40);
    expect(await lookupHashes(tier, [...others, ...marked])).toEqual([...others.map(() => undefined), ...marked.map(() => NOW)]);
  });

  it('goes down when Redis answers that it cannot serve (LOADING), and comes back once a ping gets PONG', async () => {
    vi.useFakeTimers();
    const redis = new FakeRedis();
    const { tier, metric } = fakeTier(redis);
    await markHashes(tier, [1n], NOW);
    redis.replace = (c) => (c[0] === 'PING' || c[0] === 'HGET' ? '-LOADING Redis is loading the dataset in memory\r\n' : undefined);
    expect(await lookupHashes(tier, [1n])).toEqual([undefined]);
    expect(tier.healthy()).toBe(false);
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(redis.names().at(-1)).toBe('PING');
    expect(tier.healthy()).toBe(false);
    redis.replace = () => undefined;
    await vi.advanceTimersByTimeAsync(100);
    expect(tier.healthy()).toBe(true);
    expect(await lookupHashes(tier, [1n])).toEqual([NOW]);
    tier.stop();
  });

  it('registers its metrics once per registry, shared by every tier', async () => {
    const registry = new Registry();
    const first = dedupTierMetrics(registry);
    expect(dedupTierMetrics(registry)).toEqual(first);
    // A second tier on the same registry: no "already registered" error, one family.
    fakeTier(new FakeRedis(), { registry });
    expect((await registry.getMetricsAsJSON()).map((m) => m.name).sort()).toEqual(['weir_dedup_tier_errors_total', 'weir_dedup_tier_up']);
  });
});
