import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lookupHashes, markHashes } from '../../src/dedup/tier.test-support.js';
import { silentLogger } from '../../src/logger.js';
import { openRedisDedup, redisDedupConfig, type RedisDedupResource } from '../../src/resources/redis-dedup.js';
import { freePort, metricValue, ThrowawayRedis, waitFor } from './support.js';

const hashes = Array.from({ length: 2000 }, (_, i) => BigInt.asUintN(64, BigInt(i + 1) * 0x9e37_79b9_7f4a_7c15n));
const open: RedisDedupResource[] = [];

async function tierAt(url: string, registry: Registry, config: Record<string, unknown> = {}): Promise<RedisDedupResource> {
  const resource = await openRedisDedup(redisDedupConfig.parse({ url, key_prefix: `weir:test:${randomBytes(6).toString('hex')}`, ...config }), {
    name: 'shared',
    logger: silentLogger(),
    dataDir: '/tmp',
    registry,
  });
  open.push(resource);
  return resource;
}

/** Times a call; the tier must answer quickly however Redis is doing. */
async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await call();
  return { value, ms: performance.now() - started };
}

const up = (registry: Registry) => metricValue(registry, 'weir_dedup_tier_up', { tier: 'shared' });

afterEach(async () => {
  for (const resource of open.splice(0)) await resource.close();
});

describe('redis_dedup when Redis is away', () => {
  it('starts without Redis and answers unknown at once; the metric says down', async () => {
    const registry = new Registry();
    const port = await freePort(); // nothing listens there
    const opening = await timed(() => tierAt(`redis://127.0.0.1:${port}`, registry));
    const redis = opening.value;
    expect(opening.ms).toBeLessThan(1000);
    expect(redis.ready()).toBe(false);
    expect(redis.healthy()).toBe(false);

    const lookup = await timed(() => lookupHashes(redis, hashes));
    expect(lookup.value).toHaveLength(hashes.length);
    expect(lookup.value.every((t) => t === undefined)).toBe(true);
    expect(lookup.ms).toBeLessThan(1000);
    expect((await timed(() => markHashes(redis, hashes, Date.now()))).ms).toBeLessThan(1000);
    expect(await up(registry)).toBe(0);
  });
});

describe('redis_dedup through an outage of its Redis', () => {
  let flaky: ThrowawayRedis;
  let admin: Redis;

  beforeAll(async () => {
    flaky = await ThrowawayRedis.start();
    admin = new Redis(flaky.url, { maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    admin.on('error', () => {}); // it goes down with the server in the outage test
  });
  afterAll(async () => {
    admin.disconnect();
    await flaky.stop();
  });

  it('goes down when Redis shuts down, answers unknown meanwhile, and recovers by itself when it is back', async () => {
    const registry = new Registry();
    const redis = await tierAt(flaky.url, registry);
    await markHashes(redis, hashes, Date.now());
    expect((await lookupHashes(redis, hashes)).every((t) => t !== undefined)).toBe(true);
    expect(await up(registry)).toBe(1);

    await flaky.stop();
    await waitFor(() => !redis.healthy(), 5000, 'tier down');
    expect(redis.ready()).toBe(false);
    expect(await up(registry)).toBe(0);
    const during = await timed(() => lookupHashes(redis, hashes));
    expect(during.value.every((t) => t === undefined)).toBe(true);
    expect(during.ms).toBeLessThan(1000);

    await flaky.start();
    const recovered = await waitFor(() => redis.healthy(), 5000, 'tier back');
    expect(recovered).toBeLessThan(5000);
    expect(redis.ready()).toBe(true);
    expect(await up(registry)).toBe(1);
    // The server came back empty (no persistence): everything is new, and the tier works again.
    expect((await lookupHashes(redis, hashes)).every((t) => t === undefined)).toBe(true);
    await markHashes(redis, hashes, Date.now());
    expect((await lookupHashes(redis, hashes)).every((t) => t !== undefined)).toBe(true);
  });

  it('goes down when Redis answers too late, and comes back on the same connection, every late reply left with its own call', async () => {
    const registry = new Registry();
    // command_timeout 200 ms: the connection counts as dead only after 1 s without a byte.
    const redis = await tierAt(flaky.url, registry, { command_timeout: '200ms' });
    const closes: unknown[] = [];
    redis.client.on('close', () => closes.push(1));
    const t1 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const t2 = t1 - 60_000;
    await markHashes(redis, hashes.slice(0, 1000), t1);
    await markHashes(redis, hashes.slice(1000, 1500), t2);

    await admin.client('PAUSE', 600, 'ALL');
    // The lookup times out and takes the tier down; its replies still come, late, on the connection.
    expect((await lookupHashes(redis, hashes)).every((t) => t === undefined)).toBe(true);
    expect(redis.healthy()).toBe(false);
    await waitFor(() => redis.healthy(), 3000, 'tier back after the pause');
    expect(closes).toEqual([]); // no reconnect: a ping on the same connection brought it back
    const answers = await lookupHashes(redis, hashes);
    answers.forEach((t, i) => expect(t, String(i)).toBe(i < 1000 ? t1 : i < 1500 ? t2 : undefined));
  });

  it('drops a connection that stays silent, and comes back on a new one when Redis answers again', async () => {
    const registry = new Registry();
    const redis = await tierAt(flaky.url, registry, { command_timeout: '200ms' });
    const closes: unknown[] = [];
    redis.client.on('close', () => closes.push(1));
    await markHashes(redis, hashes, Date.now());
    expect(redis.healthy()).toBe(true);

    await admin.client('PAUSE', 1500, 'ALL'); // every other client's commands wait 1.5 s
    const slow = await timed(() => lookupHashes(redis, hashes));
    expect(slow.value.every((t) => t === undefined)).toBe(true);
    expect(slow.ms).toBeLessThan(1000);
    expect(redis.healthy()).toBe(false);
    expect(await up(registry)).toBe(0);
    expect(await metricValue(registry, 'weir_dedup_tier_errors_total', { tier: 'shared', op: 'lookup' })).toBe(1);
    // While down, calls do not queue behind the paused server.
    expect((await timed(() => lookupHashes(redis, hashes))).ms).toBeLessThan(50);

    await waitFor(() => redis.healthy(), 6000, 'tier back after the pause');
    expect(closes).toHaveLength(1); // silent for 1 s while replies were due: dropped, then a new connection
    expect(await up(registry)).toBe(1);
    expect((await lookupHashes(redis, hashes)).every((t) => t !== undefined)).toBe(true);
  });
});
