import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BucketLayout } from '../../src/dedup/bucket-layout.js';
import { lookupHashes, markHashes } from '../../src/dedup/tier.test-support.js';
import { silentLogger } from '../../src/logger.js';
import { openRedisDedup, redisDedupConfig, type RedisDedupResource } from '../../src/resources/redis-dedup.js';
import { deletePrefix, REDIS_URL, ThrowawayRedis, waitFor } from './support.js';

/** Distinct random 64-bit hashes. */
function randomHashes(n: number): bigint[] {
  const bytes = randomBytes(8 * n);
  return [...new Set(Array.from({ length: n }, (_, i) => bytes.readBigUInt64BE(8 * i)))];
}

/** Tiers to close after the test, with the server whose keys they wrote. */
const open: Array<{ resource: RedisDedupResource; url: string }> = [];
let admin: Redis;

/** A tier under a fresh key prefix (removed after the test). */
async function tier(config: Record<string, unknown> = {}, url = REDIS_URL): Promise<RedisDedupResource> {
  const key_prefix = `weir:test:${randomBytes(6).toString('hex')}`;
  const resource = await openRedisDedup(redisDedupConfig.parse({ url, key_prefix, expected_series: 100_000, ...config }), {
    name: 'redis',
    logger: silentLogger(),
    dataDir: '/tmp',
    registry: new Registry(),
  });
  open.push({ resource, url });
  expect(resource.ready()).toBe(true);
  return resource;
}

function prefixOf(resource: RedisDedupResource): string {
  return (resource.tier as unknown as { options: { layout: BucketLayout } }).options.layout.prefix;
}

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterEach(async () => {
  for (const { resource, url } of open.splice(0)) {
    // The private server's keys go with it; the shared one's are removed.
    if (url === REDIS_URL) await deletePrefix(admin, prefixOf(resource));
    await resource.close();
  }
});

afterAll(() => admin.disconnect());

describe('redis_dedup against a real Redis', () => {
  it('remembers what was marked, and nothing else', async () => {
    const redis = await tier();
    const hashes = randomHashes(3000);
    const at = Date.now();
    expect((await lookupHashes(redis, hashes)).every((t) => t === undefined)).toBe(true);

    await markHashes(redis, hashes.slice(0, 1500), at);
    const answers = await lookupHashes(redis, hashes);
    expect(answers.slice(0, 1500).every((t) => t === Math.floor(at / 1000) * 1000)).toBe(true);
    expect(answers.slice(1500).every((t) => t === undefined)).toBe(true);
    expect(redis.healthy()).toBe(true);
  });

  it('copes with a batch far larger than expected_series (thousands of series per bucket)', async () => {
    // 16 buckets, ~5000 series each: one HSET of 10,000 arguments and one HMGET of 5,000 each.
    const redis = await tier({ expected_series: 100, command_timeout: '10s' });
    const hashes = randomHashes(80_000);
    await markHashes(redis, hashes, Date.now());
    expect(redis.healthy()).toBe(true);
    const answers = await lookupHashes(redis, [...hashes, ...randomHashes(1000)]);
    expect(answers.slice(0, hashes.length).every((t) => t !== undefined)).toBe(true);
    expect(answers.slice(hashes.length).every((t) => t === undefined)).toBe(true);
  });

  it('stores buckets as listpack hashes of short fields under <prefix>:<bits>:<bucket>', async () => {
    const redis = await tier({ expected_series: 1_000_000 });
    const hashes = randomHashes(2000);
    await markHashes(redis, hashes, Date.now());
    const layout = new BucketLayout(prefixOf(redis), 1_000_000);
    const { key, field } = layout.locate(hashes[0]);
    expect(key).toMatch(new RegExp(`^${prefixOf(redis)}:14:[0-9a-f]{1,4}$`));
    expect(await admin.type(key)).toBe('hash');
    expect(await admin.object('ENCODING', key)).toBe('listpack');
    expect(await admin.hexists(key, field)).toBe(1);
    expect(field.length).toBe(7);
  });

  it('gives times back to the second (rounded down), and a later mark replaces an earlier one', async () => {
    const redis = await tier();
    const [a, b] = [randomHashes(100), randomHashes(100)];
    const now = Date.now();
    await markHashes(redis, a, now - 5_123);
    await markHashes(redis, b, now - 61_999);
    const answers = await lookupHashes(redis, [...a, ...b]);
    expect(new Set(answers.slice(0, 100))).toEqual(new Set([Math.floor((now - 5_123) / 1000) * 1000]));
    expect(new Set(answers.slice(100))).toEqual(new Set([Math.floor((now - 61_999) / 1000) * 1000]));

    await markHashes(redis, b, now);
    expect(new Set(await lookupHashes(redis, b))).toEqual(new Set([Math.floor(now / 1000) * 1000]));
  });

  it('treats a stored time older than ttl as unknown', async () => {
    const redis = await tier({ ttl: '1h' });
    const [old, recent] = [randomHashes(50), randomHashes(50)];
    await markHashes(redis, old, Date.now() - 3_600_000 - 2_000);
    await markHashes(redis, recent, Date.now() - 3_600_000 + 30_000);
    const answers = await lookupHashes(redis, [...old, ...recent]);
    expect(answers.slice(0, 50).every((t) => t === undefined)).toBe(true);
    expect(answers.slice(50).every((t) => t !== undefined)).toBe(true);
  });

  it('expires a whole bucket ttl after its creation', async () => {
    const redis = await tier({ ttl: '1s', ttl_jitter: 0, expected_series: 100 });
    const hashes = randomHashes(20);
    const keys = [...new Set(hashes.map((h) => new BucketLayout(prefixOf(redis), 100).locate(h).key))];
    const marked = Date.now();
    await markHashes(redis, hashes, marked);
    expect(await admin.exists(...keys)).toBe(keys.length);
    // EXISTS expires lazily, to the millisecond (the lookup alone would not tell: it also ignores times older than ttl).
    await waitFor(async () => (await admin.exists(...keys)) === 0, 5000, 'bucket expiry');
    expect(Date.now() - marked).toBeGreaterThanOrEqual(950);
    expect((await lookupHashes(redis, hashes)).every((t) => t === undefined)).toBe(true);
  });

  it('looks up and marks by uint32 halves, one answer per hash in input order', async () => {
    const redis = await tier({ expected_series: 10_000 });
    const hashes = randomHashes(1500);
    const hi = Uint32Array.from(hashes, (h) => Number(h >> 32n));
    const lo = Uint32Array.from(hashes, (h) => Number(h & 0xffffffffn));
    const now = Math.floor(Date.now() / 1000) * 1000;
    await redis.markPairs(hi, lo, 500, now);
    await markHashes(redis, hashes.slice(500, 1000), now - 5000);
    const pairs = await redis.lookupPairs(hi, lo, hashes.length);
    const bigints = await lookupHashes(redis, hashes);
    for (let i = 0; i < hashes.length; i++) {
      const expected = i < 500 ? now : i < 1000 ? now - 5000 : undefined;
      expect(bigints[i], String(i)).toBe(expected);
      expect(pairs[i], String(i)).toBe(expected ?? NaN);
    }
  });

  it('gives each bucket a lifetime between ttl and ttl × (1 + jitter), set at creation and never extended', async () => {
    const redis = await tier({ ttl: '100s', ttl_jitter: 0.5, expected_series: 20_000 });
    const hashes = randomHashes(3000);
    await markHashes(redis, hashes, Date.now());
    const keys = [...new Set(hashes.map((h) => new BucketLayout(prefixOf(redis), 20_000).locate(h).key))];
    const pttl = async () => Promise.all(keys.map((k) => admin.pttl(k)));
    const first = await pttl();
    expect(keys.length).toBeGreaterThan(200);
    expect(Math.min(...first)).toBeGreaterThan(100_000 - 5_000);
    expect(Math.max(...first)).toBeLessThanOrEqual(150_000);
    // Spread over the jitter window, not bunched: with 200+ uniform draws the range is most of 50 s.
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(30_000);

    // Marking the same series again redraws no lifetime: every PTTL only counts down.
    await markHashes(redis, hashes, Date.now());
    const second = await pttl();
    second.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(first[i]));
  });
});

describe('redis_dedup round trips (private Redis, exact command counts)', () => {
  let server: ThrowawayRedis;
  let stats: Redis;

  beforeAll(async () => {
    server = await ThrowawayRedis.start();
    stats = new Redis(server.url);
  });
  afterAll(async () => {
    stats.disconnect();
    await server.stop();
  });

  async function commandCalls(): Promise<Record<string, number>> {
    const info = await stats.info('commandstats');
    return Object.fromEntries([...info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  }

  it('looks up and marks thousands of series in one round trip: one plain command per bucket', async () => {
    const redis = await tier({ expected_series: 1_000_000 }, server.url);
    const hashes = randomHashes(5000);
    const buckets = new BucketLayout(prefixOf(redis), 1_000_000).group(hashes).groups;
    expect(buckets).toBeGreaterThan(3000);
    const exec = vi.spyOn(redis.client, 'exec');

    await stats.config('RESETSTAT');
    await markHashes(redis, hashes, Date.now());
    expect(exec).toHaveBeenCalledTimes(1);
    const afterMark = await commandCalls();
    // Every bucket is new to this tier: each gets its lifetime (PEXPIRE NX) and tells when it expires.
    expect(afterMark).toMatchObject({ hset: buckets, pexpire: buckets, pexpiretime: buckets });
    expect([afterMark.eval, afterMark.evalsha]).toEqual([undefined, undefined]);
    // The tier now knows when those buckets expire: writing to them again sets no lifetime.
    await stats.config('RESETSTAT');
    await markHashes(redis, hashes, Date.now());
    const again = await commandCalls();
    expect(again).toMatchObject({ hset: buckets });
    expect([again.pexpire, again.pexpiretime]).toEqual([undefined, undefined]);

    await stats.config('RESETSTAT');
    const started = performance.now();
    const answers = await lookupHashes(redis, hashes);
    const elapsed = performance.now() - started;
    expect(exec).toHaveBeenCalledTimes(3);
    // One read per bucket: HGET for a bucket with one of the series, HMGET for several.
    const reads = await commandCalls();
    expect((reads.hget ?? 0) + (reads.hmget ?? 0)).toBe(buckets);
    expect(reads.hget).toBeGreaterThan(0);
    expect(reads.hmget).toBeGreaterThan(0);
    expect(reads.hset).toBeUndefined();
    expect(answers.every((t) => t !== undefined)).toBe(true);
    expect(elapsed).toBeLessThan(250); // the default command timeout: a batch like this must fit well inside it
  });

  it('names itself to Redis (CLIENT LIST) as weir:<resource name>', async () => {
    await tier({}, server.url);
    expect(await stats.client('LIST')).toMatch(/ name=weir:redis /);
  });
});
