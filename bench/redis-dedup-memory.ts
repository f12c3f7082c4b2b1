/**
 * How many bytes of Redis memory does the redis_dedup tier cost per series? Marks N random series
 * hashes through the real tier (in batches, as the dedup stage would) under a fresh key prefix, and
 * prints the growth of `used_memory` divided by N, with the layout and how the buckets are encoded.
 *
 *   npx tsx bench/redis-dedup-memory.ts [series=1000000] [redis url]
 *
 * Without a URL it starts a private redis-server (defaults: hash-max-listpack-entries 128) on a free
 * port, so other clients' keys do not blur the figure, and stops it at the end. With a URL it cleans
 * up its keys afterwards.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { BucketLayout } from '../src/dedup/bucket-layout.js';
import { silentLogger } from '../src/logger.js';
import { openRedisDedup, redisDedupConfig } from '../src/resources/redis-dedup.js';
import { deletePrefix, ThrowawayRedis } from '../test/redis/support.js';

const series = Number(process.argv[2] ?? 1_000_000);
const BATCH = 10_000;

const ownServer = process.argv[3] ? undefined : await ThrowawayRedis.start();
const url = process.argv[3] ?? ownServer!.url;
const prefix = `weir:bench:${randomBytes(4).toString('hex')}`;

const resource = await openRedisDedup(redisDedupConfig.parse({ url, key_prefix: prefix, expected_series: series, command_timeout: '30s', ttl: '1h' }), {
  name: 'bench',
  logger: silentLogger(),
  dataDir: '/tmp',
  registry: new Registry(),
});
const { tier } = resource;
// The tier's own connection speaks only its commands: INFO, OBJECT and the cleanup go through another.
const client = new Redis(url);
if (!resource.ready()) throw new Error(`no Redis at ${url}`);

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
const before = await usedMemory();
const started = performance.now();
const startedCpu = process.cpuUsage();
const now = Date.now();
// Random hashes as the uint32 halves the tier takes: high halves, then low halves.
const halves = new Uint32Array(2 * BATCH);
for (let done = 0; done < series; done += BATCH) {
  const n = Math.min(BATCH, series - done);
  randomFillSync(halves);
  // Mark times spread over the last half hour, as a real tier holds them.
  await tier.markPairs(halves.subarray(0, n), halves.subarray(BATCH, BATCH + n), n, now - Math.floor(Math.random() * 1_800_000));
  if (!tier.healthy()) throw new Error('tier went down during the benchmark (Redis too slow for the command timeout?)');
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(startedCpu);
const after = await usedMemory();

const layout = new BucketLayout(prefix, series);
const sample = Array.from({ length: 200 }, (_, i) => layout.key(Math.floor((i * layout.buckets) / 200)));
const encodings = new Map<string, number>();
for (const key of sample) {
  const encoding = String(await client.object('ENCODING', key));
  encodings.set(encoding, (encodings.get(encoding) ?? 0) + 1);
}
const keys = Number(await client.dbsize());

console.log(`series           ${series.toLocaleString('en')}`);
console.log(`layout           ${layout.buckets.toLocaleString('en')} buckets (${layout.bits} bits), ${layout.fieldBytes}-byte fields, ~${(series / layout.buckets).toFixed(0)} series per bucket`);
console.log(`keys in the db   ${keys.toLocaleString('en')}${ownServer ? '' : ' (shared server: includes others\' keys)'}`);
console.log(`encodings        ${[...encodings].map(([e, n]) => `${e}: ${n}`).join(', ')} (of ${sample.length} sampled buckets)`);
console.log(`used_memory      +${((after - before) / 2 ** 20).toFixed(1)} MiB`);
console.log(`bytes/series     ${((after - before) / series).toFixed(1)}`);
console.log(`insert           ${seconds.toFixed(1)} s (${Math.round(series / seconds).toLocaleString('en')} series/s, batches of ${BATCH})`);
console.log(`client CPU       ${(((cpu.user + cpu.system) / series)).toFixed(2)} µs/series (hash generation included)`);

if (!ownServer) await deletePrefix(client, prefix); // what we wrote to a shared server
client.disconnect();
await resource.close();
await ownServer?.stop();
