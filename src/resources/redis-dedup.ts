import { register as defaultRegistry, type Registry } from 'prom-client';
import { z } from 'zod';
import { duration } from '../config/units.js';
import { redact } from '../clients/redis/redis-url.js';
import { RespConnection } from '../clients/redis/resp-connection.js';
import { BucketLayout, TARGET_BUCKET_FILL } from '../dedup/bucket-layout.js';
import { dedupTierMetrics, RedisDedupTier } from '../dedup/redis-tier.js';
import type { DedupTier } from '../dedup/tier.js';
import { defineResource, type Resource, type ResourceContext } from '../topology/declaration.js';

export const redisDedupConfig = z.strictObject({
  url: z.string().min(1).default('redis://127.0.0.1:6379').describe('Redis server (7.0 or later; a single server or a primary, not Redis Cluster: each call sends commands for many bucket keys in one pipeline), as redis://[user:password@]host:port[/db], or rediss:// for TLS (a server certificate from a private CA: start weir with NODE_EXTRA_CA_CERTS=<ca.pem>).'),
  key_prefix: z.string().min(1).default('weir:seen').describe('Prefix of the bucket keys (`<prefix>:<bits>:<bucket>`). Services that should share what they have seen use the same prefix; give unrelated ones their own.'),
  expected_series: z.number().int().min(1).max(500_000_000).default(2_000_000).describe(
    `Series the tier should hold; sizes the buckets (hashes of about ${TARGET_BUCKET_FILL / 2}–${TARGET_BUCKET_FILL} series, roughly 20 bytes per series in Redis). ` +
      'Up to about 1.5× this many stay in the compact listpack encoding under Redis\' default hash-max-listpack-entries (128); beyond that buckets still work but use several times more memory. ' +
      'Changing it moves every series to a new bucket: each is sent on once more, and the old buckets expire after ttl.',
  ),
  ttl: duration().prefault('2h').describe(
    'How long a series is remembered. A stored time older than this counts as unknown. Redis 7.0 cannot expire single hash fields, so whole buckets expire instead: ' +
      'a bucket lives ttl (plus jitter) from its creation and is not extended by later writes, which bounds memory when series churn. ' +
      'When it expires, the series in it count as new once and are sent on again. Keep it at least as long as the dedup stage\'s refresh_after.',
  ),
  ttl_jitter: z.number().min(0).max(1).default(0.25).describe('Each bucket lives ttl × (1 + a random fraction up to this), so expiries, and the resends they cause, spread out instead of coming all at once.'),
  command_timeout: duration().prefault('250ms').describe(
    'A lookup or mark that gets no reply in this time marks the tier down: it answers "unknown" (series pass on as new: duplicates, never loss) until a background ping gets an answer again.',
  ),
  connect_timeout: duration().prefault('2s').describe(
    'How long a connection attempt may take, and how long startup waits for the first one. Weir starts without Redis if it must, and while it is down tries again by itself, at most a second after each failed attempt.',
  ),
});

export interface RedisDedupResource extends DedupTier, Resource {
  readonly tier: RedisDedupTier;
  readonly client: RespConnection;
  /** Connected to Redis now (the service stays up without it: series then pass on as new). */
  ready(): boolean;
}

/**
 * The resource context, plus where to register the tier's metrics (`weir_dedup_tier_up`,
 * `weir_dedup_tier_errors_total`); without one, prom-client's default registry is used. A context
 * passed to the declaration's `open` that carries a `registry` is honoured the same way.
 */
export interface RedisDedupContext extends ResourceContext {
  registry?: Registry;
}

export const redisDedup = defineResource({
  kind: 'resource',
  type: 'redis_dedup',
  summary: 'Shared dedup tier in Redis: series hashes in small hashes with a TTL; when Redis is down or slow, series pass on as new.',
  stability: 'stable',
  examples: [
    {
      title: 'The tier every ingest instance shares',
      yaml: `
        shared_series:
          type: redis_dedup
          url: \${WEIR_REDIS_URL:-redis://127.0.0.1:6379}
          key_prefix: weir:seen
          expected_series: 5000000
          ttl: 2h   # at least the dedup step's refresh_after`,
    },
  ],
  provides: ['dedup_tier'],
  config: redisDedupConfig,
  open: (config, ctx) => openRedisDedup(config, ctx),
});

export type RedisDedupConfig = z.output<typeof redisDedupConfig>;

/** Opens the tier; resolves once the first connection attempt is over, whether or not it succeeded. */
export async function openRedisDedup(config: RedisDedupConfig, ctx: RedisDedupContext): Promise<RedisDedupResource> {
  const client = new RespConnection({
    url: config.url,
    name: `weir:${ctx.name}`,
    connectTimeout: config.connect_timeout,
    // A connection that sends nothing back while commands wait is dead: drop it and reconnect,
    // rather than let replies pile up behind it. (The tier times out each call on its own.)
    socketTimeout: Math.max(1000, 4 * config.command_timeout),
  });
  const tier = new RedisDedupTier({
    name: ctx.name,
    client,
    layout: new BucketLayout(config.key_prefix, config.expected_series),
    ttl: config.ttl,
    ttlJitter: config.ttl_jitter,
    commandTimeout: config.command_timeout,
    logger: ctx.logger,
    metrics: dedupTierMetrics(ctx.registry ?? defaultRegistry),
  });
  await firstConnection(client, config.connect_timeout);
  if (client.status !== 'ready') ctx.logger.warn({ tier: ctx.name, url: redact(config.url) }, 'redis dedup tier: Redis not reachable at start; continuing without it');
  return {
    name: ctx.name,
    tier,
    client,
    lookupPairs: (hi, lo, count) => tier.lookupPairs(hi, lo, count),
    markPairs: (hi, lo, count, at) => tier.markPairs(hi, lo, count, at),
    healthy: () => tier.healthy(),
    ready: () => client.status === 'ready',
    async close() {
      tier.stop();
      client.close();
    },
  };
}

/** Resolves once the first connection attempt has succeeded or failed, or after `timeout` ms. */
function firstConnection(client: RespConnection, timeout: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, timeout);
    client.once('ready', done);
    client.once('close', done);
  });
}
