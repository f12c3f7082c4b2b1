import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { BucketLayout, dedupTierMetrics, MAX_GROUP_FIELDS, RedisDedupTier, type PipelineReplies, type RedisCommand } from './redis-tier.js';

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

  it('groups hashes by bucket, remembering where each came from, and packs their fields in group order', () => {
    const layout = new BucketLayout('p', 100);
    const hashes = [0x1000_0000_0000_0001n, 0x2000_0000_0000_0002n, 0x1000_0000_0000_0003n, -1n];
    const grouped = layout.group(hashes);
    expect(grouped.groups.map((g) => [g.key, g.indices])).toEqual([
      ['p:4:1', [0, 2]],
      ['p:4:2', [1]],
      ['p:4:f', [3]],
    ]);
    const packed = layout.packFields(grouped, grouped.groups);
    expect(packed.length).toBe(4 * layout.fieldBytes);
    expect(packed.subarray(0, 8)).toEqual(layout.locate(hashes[0]).field);
    expect(packed.subarray(8, 16)).toEqual(layout.locate(hashes[2]).field);
    expect(packed.subarray(24)).toEqual(Buffer.alloc(8, 0xff)); // negative input counts as its 64-bit pattern
  });

  it('splits a bucket with more than MAX_GROUP_FIELDS hashes in a batch into several groups', () => {
    const layout = new BucketLayout('p', 100);
    const hashes = Array.from({ length: 2 * MAX_GROUP_FIELDS + 1 }, (_, i) => BigInt(i)); // all in bucket 0
    const { groups } = layout.group(hashes);
    expect(groups.map((g) => [g.key, g.indices.length])).toEqual([
      ['p:4:0', MAX_GROUP_FIELDS],
      ['p:4:0', MAX_GROUP_FIELDS],
      ['p:4:0', 1],
    ]);
    expect(groups.flatMap((g) => g.indices)).toEqual(hashes.map((_, i) => i));
  });
});

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
    if (command[0] !== 'eval') return [null, 'PONG'];
    const keys = Number(command[2]);
    const fields = String(command[3 + keys + 1]).split(' ').reduce((n, c) => n + Number(c), 0);
    return [null, new Array(fields).fill(String(seconds))];
  });

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('RedisDedupTier', () => {
  it('sends a whole lookup as one pipeline of script calls, a thousand buckets each', async () => {
    const client = new FakeClient();
    client.answer = storedTimes(NOW / 1000 - 60);
    const tier = new RedisDedupTier({ name: 't', client, layout: new BucketLayout('p', 1_000_000), ttl: TTL, ttlJitter: 0, commandTimeout: 1000, logger: silentLogger(), now: () => NOW });
    const hashes = Array.from({ length: 5000 }, (_, i) => BigInt(i) << 50n); // 5000 buckets (the top 14 bits)
    const answers = await tier.lookup(hashes);
    expect(client.sent).toHaveLength(1);
    expect(client.sent[0].map((c) => [c[0], c[2]])).toEqual([['eval', 1000], ['eval', 1000], ['eval', 1000], ['eval', 1000], ['eval', 1000]]);
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
    client.answer = async (commands) => commands.map(() => [null, 1]);
    const { tier } = fakeTier(client);
    await tier.mark(Array.from({ length: 200 }, (_, i) => BigInt(i) << 56n), NOW + 999);
    const [command] = client.sent[0];
    const keys = Number(command[2]);
    const lifetimes = String(command[3 + keys + 3]).split(' ').map(Number);
    expect(command.at(-1)).toBe(String((NOW + 999 - 999) / 1000));
    expect(lifetimes).toHaveLength(keys);
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(TTL);
    expect(Math.max(...lifetimes)).toBeLessThanOrEqual(TTL * 1.5);
    expect(new Set(lifetimes).size).toBeGreaterThan(1);
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
