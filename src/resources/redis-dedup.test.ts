import { connect } from 'node:net';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { silentLogger } from '../logger.js';
import { openRedisDedup, redisDedup, redisDedupConfig } from './redis-dedup.js';

describe('redis_dedup config', () => {
  it('has defaults for everything, durations in ms', () => {
    expect(redisDedupConfig.parse({})).toEqual({
      url: 'redis://127.0.0.1:6379',
      key_prefix: 'weir:seen',
      expected_series: 2_000_000,
      ttl: 7_200_000,
      ttl_jitter: 0.25,
      command_timeout: 250,
      connect_timeout: 2000,
    });
    expect(redisDedupConfig.parse({ ttl: '45m', command_timeout: '1s' })).toMatchObject({ ttl: 2_700_000, command_timeout: 1000 });
  });

  it('rejects what it cannot honour', () => {
    for (const bad of [{ ttl_jitter: 1.5 }, { ttl_jitter: -0.1 }, { expected_series: 0 }, { ttl: 'soon' }, { key_prefix: '' }, { max_series: 10 }]) {
      expect(redisDedupConfig.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('declares a dedup tier whose schema renders as JSON Schema with its docs', () => {
    expect(redisDedup).toMatchObject({ kind: 'resource', type: 'redis_dedup', provides: ['dedup_tier'] });
    const schema = z.toJSONSchema(redisDedupConfig, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { description?: string }> };
    expect(Object.keys(schema.properties)).toEqual(['url', 'key_prefix', 'expected_series', 'ttl', 'ttl_jitter', 'command_timeout', 'connect_timeout']);
    for (const [field, property] of Object.entries(schema.properties)) expect(property.description, field).toBeTruthy();
  });
});

/** Unit tests need nothing running: this one runs only where a Redis answers (test/redis has the rest). */
const redisUp = await new Promise<boolean>((resolve) => {
  const socket = connect(6379, '127.0.0.1');
  socket.setTimeout(300);
  const done = (up: boolean) => {
    socket.destroy();
    resolve(up);
  };
  socket.once('connect', () => done(true));
  socket.once('error', () => done(false));
  socket.once('timeout', () => done(false));
});

describe.skipIf(!redisUp)('redis_dedup against the Redis at 127.0.0.1:6379', () => {
  it('looks up and marks by uint32 halves and by BigInts interchangeably (one wire format)', async () => {
    const prefix = `weir-test:${process.pid}:${Date.now()}`;
    const tier = await openRedisDedup(redisDedupConfig.parse({ key_prefix: prefix, expected_series: 10_000, command_timeout: '2s' }), { name: 'redis', logger: silentLogger(), dataDir: '/tmp', registry: new Registry() });
    try {
      expect(tier.ready()).toBe(true);
      const hashes = Array.from({ length: 1500 }, (_, i) => BigInt.asUintN(64, BigInt(i + 1) * 0x9e37_79b9_7f4a_7c15n));
      const hi = Uint32Array.from(hashes, (h) => Number(h >> 32n));
      const lo = Uint32Array.from(hashes, (h) => Number(h & 0xffffffffn));
      const now = Math.floor(Date.now() / 1000) * 1000;
      await tier.markPairs!(hi, lo, 500, now);
      await tier.mark(hashes.slice(500, 1000), now - 5000);
      const pairs = await tier.lookupPairs!(hi, lo, 1500);
      const bigints = await tier.lookup(hashes);
      for (let i = 0; i < 1500; i++) {
        const expected = i < 500 ? now : i < 1000 ? now - 5000 : undefined;
        expect(bigints[i], String(i)).toBe(expected);
        expect(pairs[i], String(i)).toBe(expected ?? NaN);
      }
    } finally {
      await tier.client.eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `${prefix}:*`);
      await tier.close();
    }
  });
});
