import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { redisDedup, redisDedupConfig } from './redis-dedup.js';

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
