import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { BucketLayout, dedupTierMetrics, MAX_GROUP_FIELDS, readStoredTimes, RedisDedupTier, type PipelineReplies, type RedisCommand } from './redis-tier.js';

describe('BucketLayout', () => {
  it('sizes buckets from the expected series: 32 to 64 series each, within 4..24 bits', () => {
    expect(new BucketLayout('p', 1_000_000)).toMatchObject({ bits: 14, fieldBytes: 7 });
    expect(new BucketLayout('p', 5_000_000)).toMatchObject({ bits: 17, fieldBytes: 6 });
    expect(new BucketLayout('p', 10)).toMatchObject({ bits: 4, fieldBytes: 8 });
    expect(new BucketLayout('p', 500_000_000)).toMatchObject({ bits: 23, fieldBytes: 6 });
    expect(new BucketLayout('p', 5_000_000_000)).toMatchObject({ bits: 24, fieldBytes: 5 });
    for (const n of [3_000, 70_000, 1_000_000, 5_000_000, 500_000_000]) {
      const perBucket = n / new BucketLayout('p', n).buckets;
      expect(perBucket).toBeGreaterThan(32);
      expect(perBucket).toBeLessThanOrEqual(64);
    }
  });

  it('names a bucket by prefix, width and number', () => {
    const layout = new BucketLayout('weir:seen', 1_000_000);
    // Top 14 bits 0x0123 >> 2 = 0x48; the field is the low 7 bytes (the bits the bucket also has do no harm).
    expect(layout.locate(0x0123_4567_89ab_cdefn)).toEqual({ key: 'weir:seen:14:48', field: Buffer.from('23456789abcdef', 'hex') });
    expect(layout.locate(1n).key).toBe('weir:seen:14:0');
  });

  it('keeps all 64 bits between key and field, so distinct hashes never share an entry', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(10, 100_000, 1_000_000, 5_000_000, 500_000_000), (hash, expected) => {
        const layout = new BucketLayout('p', expected);
        const { key, field } = layout.locate(hash);
        const bucket = BigInt(parseInt(key.split(':')[2], 16));
        const low = BigInt('0x' + field.toString('hex'));
        const lowBits = BigInt(64 - layout.bits);
        expect(field.length).toBe(layout.fieldBytes);
        expect((bucket << lowBits) | (low & ((1n << lowBits) - 1n))).toBe(hash);
      }),
    );
  });

  it('groups hashes by bucket in packed chunks (bucket, count, fields), remembering where each came from', () => {
    const layout = new BucketLayout('p', 100);
    const hashes = [0x1000_0000_0000_0001n, 0x2000_0000_0000_0002n, 0x1000_0000_0000_0003n, -1n];
    const { chunks, order } = layout.group(hashes);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatchObject({ groups: 3, fields: 4 });
    expect(unpackGroups(layout, chunks[0].packed)).toEqual([
      { bucket: 1, fields: [layout.locate(hashes[0]).field, layout.locate(hashes[2]).field] },
      { bucket: 2, fields: [layout.locate(hashes[1]).field] },
      { bucket: 0xf, fields: [Buffer.alloc(8, 0xff)] }, // negative input counts as its 64-bit pattern
    ]);
    expect([...order]).toEqual([0, 2, 1, 3]);
  });

  it('splits a bucket with more than MAX_GROUP_FIELDS hashes in a batch into several groups, and a thousand groups per chunk', () => {
    const layout = new BucketLayout('p', 100);
    const hashes = Array.from({ length: 2 * MAX_GROUP_FIELDS + 1 }, (_, i) => BigInt(i)); // all in bucket 0
    const grouped = layout.group(hashes);
    expect(grouped.chunks.flatMap((c) => unpackGroups(layout, c.packed)).map((g) => [g.bucket, g.fields.length])).toEqual([
      [0, MAX_GROUP_FIELDS],
      [0, MAX_GROUP_FIELDS],
      [0, 1],
    ]);
    expect([...grouped.order]).toEqual(hashes.map((_, i) => i));

    const wide = new BucketLayout('p', 1_000_000);
    const spread = Array.from({ length: 2500 }, (_, i) => BigInt(2499 - i) << 50n); // 2500 buckets, in reverse
    const { chunks, order } = wide.group(spread);
    expect(chunks.map((c) => [c.groups, c.fields])).toEqual([[1000, 1000], [1000, 1000], [500, 500]]);
    expect(chunks.flatMap((c) => unpackGroups(wide, c.packed)).map((g) => g.bucket)).toEqual(spread.map((_, i) => i));
    expect(order[0]).toBe(2499);
  });

  it('packs every hash exactly once, under the bucket and field locate() gives', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 300 }), fc.constantFrom(10, 100_000, 5_000_000), (hashes, expected) => {
        const layout = new BucketLayout('p', expected);
        const { chunks, order } = layout.group(hashes);
        const packed = chunks.flatMap((c) => unpackGroups(layout, c.packed).flatMap((g) => g.fields.map((field) => ({ key: layout.key(g.bucket), field }))));
        expect(packed).toHaveLength(hashes.length);
        expect([...order].sort((a, b) => a - b)).toEqual(hashes.map((_, i) => i));
        packed.forEach((entry, p) => expect(entry).toEqual(layout.locate(hashes[order[p]])));
      }),
    );
  });

  it('packs hashes given as uint32 halves exactly as the same hashes given as BigInts', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 300 }), fc.constantFrom(10, 100_000, 5_000_000, 500_000_000, 5_000_000_000), (hashes, expected) => {
        const layout = new BucketLayout('p', expected);
        // Longer arrays than `n`: only the first n count.
        const hi = Uint32Array.from([...hashes.map((h) => Number(h >> 32n)), 7]);
        const lo = Uint32Array.from([...hashes.map((h) => Number(h & 0xffffffffn)), 7]);
        expect(layout.groupPairs(hi, lo, hashes.length)).toEqual(layout.group(hashes));
      }),
    );
  });
});

/** The groups of a packed chunk, as the scripts read them. */
function unpackGroups(layout: Pick<BucketLayout, 'fieldBytes'>, packed: Buffer): Array<{ bucket: number; fields: Buffer[] }> {
  const groups = [];
  for (let at = 0; at < packed.length; ) {
    const bucket = packed.readUInt32BE(at);
    const n = packed.readUInt16BE(at + 4);
    at += 6;
    const fields = [];
    for (let j = 0; j < n; j++, at += layout.fieldBytes) fields.push(Buffer.from(packed.subarray(at, at + layout.fieldBytes)));
    groups.push({ bucket, fields });
  }
  return groups;
}

/** A client that answers each pipeline with `answer` (never, by default: a hung Redis). */
class FakeClient extends EventEmitter {
  status = 'ready';
  sent: RedisCommand[][] = [];
  answer: (commands: RedisCommand[]) => Promise<PipelineReplies | null> = () => new Promise(() => {});
  pipeline(commands: RedisCommand[]) {
    this.sent.push(commands);
    return { exec: () => this.answer(commands) };
  }
}

const TTL = 3_600_000;
const NOW = 1_800_000_000_000;

function fakeTier(client: FakeClient, registry = new Registry()) {
  const tier = new RedisDedupTier({
    name: 'shared',
    client,
    layout: new BucketLayout('p', 1000),
    ttl: TTL,
    ttlJitter: 0.5,
    commandTimeout: 50,
    probeInterval: 20,
    logger: silentLogger(),
    metrics: dedupTierMetrics(registry),
    now: () => NOW,
  });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await registry.getSingleMetric(name)!.get()).values;
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  return { tier, metric };
}

/** Answers every lookup script with one stored time (seconds) for each field it asked about. */
const storedTimes = (seconds: number) => async (commands: RedisCommand[]): Promise<PipelineReplies> =>
  commands.map((command) => {
    if (command[0] !== 'evalshaBuffer') return [null, 'PONG'];
    const fields = unpackGroups({ fieldBytes: Number(command[4]) } as BucketLayout, command[5] as Buffer).reduce((n, g) => n + g.fields.length, 0);
    return [null, Buffer.from(Array.from({ length: fields }, () => String(seconds)).join(','))];
  });

/**
 * Runs the scripts' logic on a Map, with Redis' script cache: EVALSHA of an unknown script answers
 * NOSCRIPT, as after a restart.
 */
class ScriptingRedis {
  readonly hashes = new Map<string, Map<string, string>>();
  /** Key expiry (ms), as PEXPIRE NX set it. */
  readonly expiries = new Map<string, number>();
  /** Every group's lifetime argument, in order. */
  readonly lifetimesSeen: number[] = [];
  now = NOW;
  readonly scripts = new Set<string>();
  answer = async (commands: RedisCommand[]): Promise<PipelineReplies> => commands.map((command) => this.run(command));

  private run([name, scriptOrSha, , prefix, w, packed, at, flags, lifetimes]: RedisCommand): [Error | null, unknown] {
    if (name === 'ping') return [null, 'PONG'];
    if (name.startsWith('evalsha') && !this.scripts.has(String(scriptOrSha))) {
      return [Object.assign(new Error('NOSCRIPT No matching script. Please use EVAL.'), { name: 'ReplyError' }), null];
    }
    if (!name.startsWith('evalsha')) this.scripts.add(createHash('sha1').update(String(scriptOrSha)).digest('hex'));
    const groups = unpackGroups({ fieldBytes: Number(w) }, packed as Buffer);
    if (at === undefined) {
      const values = groups.flatMap((g) => g.fields.map((f) => this.hashes.get(`${String(prefix)}${g.bucket.toString(16)}`)?.get(f.toString('hex')) ?? ''));
      return [null, Buffer.from(values.join(','))];
    }
    const expiries: number[] = [];
    let given = 0;
    groups.forEach((g, k) => {
      const key = `${String(prefix)}${g.bucket.toString(16)}`;
      const hash = this.hashes.get(key) ?? new Map<string, string>();
      this.hashes.set(key, hash);
      for (const f of g.fields) hash.set(f.toString('hex'), String(at));
      // One flag byte per group; lifetimes only for the flagged ones.
      const lifetime = (flags as Buffer)[k] === 1 ? (lifetimes as Buffer).readDoubleBE(8 * given++) : 0;
      this.lifetimesSeen.push(lifetime);
      if (lifetime > 0) {
        // PEXPIRE NX, then PEXPIRETIME.
        if (!this.expiries.has(key)) this.expiries.set(key, this.now + lifetime);
        expiries.push(this.expiries.get(key)!);
      }
    });
    const reply = Buffer.alloc(8 * expiries.length);
    expiries.forEach((e, i) => reply.writeDoubleBE(e, 8 * i));
    return [null, reply];
  }
}

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('readStoredTimes', () => {
  it("reads a lookup's comma-joined decimal seconds; absent, zero, out-of-range or garbled values count as absent", () => {
    const read = (text: string, expected: number) => {
      const found: Array<[number, number]> = [];
      const count = readStoredTimes(Buffer.from(text), expected, (f, seconds) => found.push([f, seconds]));
      return { count, found };
    };
    expect(read('1763720000,,42', 3)).toEqual({ count: 3, found: [[0, 1763720000], [2, 42]] });
    expect(read('', 1)).toEqual({ count: 1, found: [] });
    expect(read(',', 2)).toEqual({ count: 2, found: [] });
    expect(read('0,4294967295,4294967296,12345678901,12a,-5', 6)).toEqual({ count: 6, found: [[1, 4294967295]] });
    // Not as many values as fields: the answer is not trusted.
    expect(read('1,2,3', 2).count).toBe(-1);
    expect(read('1,2', 3).count).toBe(2);
  });
});

describe('RedisDedupTier', () => {
  it('sends a whole lookup as one pipeline of script calls, a thousand buckets each', async () => {
    const client = new FakeClient();
    client.answer = storedTimes(NOW / 1000 - 60);
    const tier = new RedisDedupTier({ name: 't', client, layout: new BucketLayout('p', 1_000_000), ttl: TTL, ttlJitter: 0, commandTimeout: 1000, logger: silentLogger(), now: () => NOW });
    const hashes = Array.from({ length: 5000 }, (_, i) => BigInt(i) << 50n); // 5000 buckets (the top 14 bits)
    const answers = await tier.lookup(hashes);
    expect(client.sent).toHaveLength(1);
    expect(client.sent[0].map((c) => [c[0], c[2], c[3], unpackGroups(new BucketLayout('p', 1_000_000), c[5] as Buffer).length])).toEqual(
      Array.from({ length: 5 }, () => ['evalshaBuffer', 0, 'p:14:', 1000]),
    );
    expect(answers.every((at) => at === NOW - 60_000)).toBe(true);
  });

  it('treats a stored time older than ttl as unknown', async () => {
    const client = new FakeClient();
    const { tier } = fakeTier(client);
    client.answer = storedTimes((NOW - TTL) / 1000);
    expect(await tier.lookup([1n, 2n])).toEqual([undefined, undefined]);
    client.answer = storedTimes((NOW - TTL) / 1000 + 1);
    expect(await tier.lookup([1n, 2n])).toEqual([NOW - TTL + 1000, NOW - TTL + 1000]);
  });

  it('marks with the time in whole seconds and a bucket lifetime between ttl and ttl × (1 + jitter)', async () => {
    const client = new FakeClient();
    client.answer = new ScriptingRedis().answer;
    const { tier } = fakeTier(client);
    await tier.mark(Array.from({ length: 200 }, (_, i) => BigInt(i) << 56n), NOW + 999);
    const [command] = client.sent[0];
    expect(command[0]).toBe('evalshaBuffer');
    const groups = unpackGroups(new BucketLayout('p', 1000), command[5] as Buffer).length;
    expect([...(command[7] as Buffer)].every((flag) => flag === 1)).toBe(true);
    const packedLifetimes = command[8] as Buffer;
    const lifetimes = Array.from({ length: packedLifetimes.length / 8 }, (_, g) => packedLifetimes.readDoubleBE(8 * g));
    expect(command[6]).toBe(String((NOW + 999 - 999) / 1000));
    expect(lifetimes).toHaveLength(groups);
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(TTL);
    expect(Math.max(...lifetimes)).toBeLessThanOrEqual(TTL * 1.5);
    expect(new Set(lifetimes).size).toBeGreaterThan(1);
  });

  it('gives a bucket a lifetime only until it knows when the bucket expires, and again near then or after a reconnect', async () => {
    const client = new FakeClient();
    const redis = new ScriptingRedis();
    client.answer = redis.answer;
    let now = NOW;
    const tier = new RedisDedupTier({ name: 't', client, layout: new BucketLayout('p', 1000), ttl: TTL, ttlJitter: 0, commandTimeout: 1000, logger: silentLogger(), now: () => now });
    const bucket = (b: number, i: number) => (BigInt(b) << 60n) | BigInt(i);
    await tier.mark([bucket(1, 1), bucket(2, 1)], now);
    expect(redis.lifetimesSeen).toEqual([TTL, TTL]);
    // Known to expire at NOW + TTL: no lifetime with later writes, also for a new series of the bucket.
    await tier.mark([bucket(1, 2), bucket(2, 2), bucket(3, 1)], now);
    expect(redis.lifetimesSeen.slice(2)).toEqual([0, 0, TTL]);
    // Within a minute of that expiry, the bucket is given one again (NX: Redis keeps its own).
    now = NOW + TTL - 30_000;
    redis.now = now;
    await tier.mark([bucket(1, 3)], now);
    expect(redis.lifetimesSeen.slice(5)).toEqual([TTL]);
    // A new connection (Redis may have restarted): every bucket is given one again.
    client.emit('ready');
    await tier.mark([bucket(3, 2)], now);
    expect(redis.lifetimesSeen.slice(6)).toEqual([TTL]);
    expect(await tier.lookup([bucket(1, 1), bucket(1, 2), bucket(3, 2)])).toEqual([NOW, NOW, now - (now % 1000)]);
  });

  it('gives each series its own answer back, whatever order the buckets went in', async () => {
    const client = new FakeClient();
    const redis = new ScriptingRedis();
    client.answer = redis.answer;
    const { tier } = fakeTier(client);
    const hashes = Array.from({ length: 3000 }, (_, i) => BigInt.asUintN(64, BigInt(i + 1) * 0x9e37_79b9_7f4a_7c15n));
    await tier.mark(hashes.filter((_, i) => i % 3 === 0), NOW - 10_000);
    await tier.mark(hashes.filter((_, i) => i % 3 === 1), NOW - 20_000);
    const answers = await tier.lookup(hashes);
    answers.forEach((at, i) => expect(at).toBe([NOW - 10_000, NOW - 20_000, undefined][i % 3]));
  });

  it('looks up and marks hashes given as uint32 halves, interchangeably with BigInts', async () => {
    const client = new FakeClient();
    const redis = new ScriptingRedis();
    client.answer = redis.answer;
    const { tier } = fakeTier(client);
    const hashes = Array.from({ length: 600 }, (_, i) => BigInt.asUintN(64, BigInt(i + 1) * 0x9e37_79b9_7f4a_7c15n));
    const hi = Uint32Array.from(hashes, (h) => Number(h >> 32n));
    const lo = Uint32Array.from(hashes, (h) => Number(h & 0xffffffffn));
    await tier.markPairs(hi, lo, 200, NOW - 10_000); // the first 200
    await tier.mark(hashes.slice(200, 400), NOW - 20_000);
    const pairs = await tier.lookupPairs(hi, lo, 600);
    const bigints = await tier.lookup(hashes);
    for (let i = 0; i < 600; i++) {
      const expected = i < 200 ? NOW - 10_000 : i < 400 ? NOW - 20_000 : undefined;
      expect(bigints[i]).toBe(expected);
      expect(pairs[i]).toBe(expected ?? NaN);
    }
    expect(await tier.lookupPairs(hi, lo, 0)).toEqual(new Float64Array(0));
  });

  it('answers NaN (unknown) to a lookup by halves when Redis hangs', async () => {
    const client = new FakeClient();
    const { tier } = fakeTier(client);
    const answers = await tier.lookupPairs(Uint32Array.of(1, 2), Uint32Array.of(3, 4), 2);
    expect([...answers]).toEqual([NaN, NaN]);
    expect(tier.healthy()).toBe(false);
    // Down: nothing more is sent.
    const sentBefore = client.sent.length;
    expect([...(await tier.lookupPairs(Uint32Array.of(1), Uint32Array.of(3), 1))]).toEqual([NaN]);
    await tier.markPairs(Uint32Array.of(1), Uint32Array.of(3), 1, NOW);
    expect(client.sent.slice(sentBefore).flat().every((c) => c[0] === 'ping')).toBe(true);
    tier.stop();
  });

  it('sends a script by its SHA, and its text once more when Redis lost its script cache', async () => {
    const client = new FakeClient();
    const redis = new ScriptingRedis();
    client.answer = redis.answer;
    const { tier } = fakeTier(client);
    await tier.mark([1n, 2n], NOW);
    expect(client.sent.map((commands) => commands[0][0])).toEqual(['evalshaBuffer', 'evalBuffer']);
    expect(await tier.lookup([1n, 2n, 3n])).toEqual([NOW, NOW, undefined]);
    expect(await tier.lookup([1n])).toEqual([NOW]);
    expect(client.sent.map((commands) => commands[0][0])).toEqual(['evalshaBuffer', 'evalBuffer', 'evalshaBuffer', 'evalBuffer', 'evalshaBuffer']);
    redis.scripts.clear(); // SCRIPT FLUSH, or a restarted Redis
    expect(await tier.lookup([2n])).toEqual([NOW]);
    expect(tier.healthy()).toBe(true);
  });

  it('answers unknown within the command timeout when Redis hangs, goes down, and comes back once a ping gets through', async () => {
    const client = new FakeClient();
    const { tier, metric } = fakeTier(client);
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(1);
    const started = Date.now();
    expect(await tier.lookup([1n, 2n])).toEqual([undefined, undefined]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(tier.healthy()).toBe(false);
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(0);
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'lookup' })).toBe(1);

    // Down: nothing is sent for lookups or marks, only the probe's pings.
    const sentBefore = client.sent.length;
    await tier.lookup([1n]);
    await tier.mark([1n], NOW);
    expect(client.sent.slice(sentBefore).flat().every((c) => c[0] === 'ping')).toBe(true);

    client.answer = storedTimes(NOW / 1000);
    await until(() => tier.healthy());
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(1);
    expect(await tier.lookup([1n])).toEqual([NOW]);
    tier.stop();
  });

  it('follows the connection: down while ioredis is not ready, up again on a new connection', async () => {
    const client = new FakeClient();
    client.answer = async () => [[new Error("Stream isn't writeable and enableOfflineQueue options is false"), null]];
    const { tier, metric } = fakeTier(client);
    await tier.mark([1n], NOW);
    expect(tier.healthy()).toBe(false);
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'mark' })).toBe(1);

    client.status = 'reconnecting';
    client.emit('close');
    client.answer = storedTimes(NOW / 1000);
    await new Promise((resolve) => setTimeout(resolve, 60)); // a few probe periods: no ping while disconnected
    expect(tier.healthy()).toBe(false);
    expect(client.sent.flat().some((c) => c[0] === 'ping')).toBe(false);

    client.status = 'ready';
    client.emit('ready');
    expect(tier.healthy()).toBe(true);
    expect(await metric('weir_dedup_tier_up', { tier: 'shared' })).toBe(1);
    tier.stop();
  });

  it('counts an error Redis replied with (a data problem) without going down', async () => {
    const client = new FakeClient();
    const replyError = Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), { name: 'ReplyError' });
    client.answer = async () => [[replyError, null]];
    const { tier, metric } = fakeTier(client);
    expect(await tier.lookup([1n])).toEqual([undefined]);
    expect(tier.healthy()).toBe(true);
    expect(await metric('weir_dedup_tier_errors_total', { tier: 'shared', op: 'lookup' })).toBe(1);
  });

  it('registers its metrics once per registry, shared by every tier', () => {
    const registry = new Registry();
    const first = dedupTierMetrics(registry);
    expect(dedupTierMetrics(registry)).toEqual(first);
  });
});
