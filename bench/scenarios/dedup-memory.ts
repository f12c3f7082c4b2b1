/**
 * dedup-memory: what remembering a series costs in each dedup tier.
 *
 * - Tier 1 (`memory_dedup`): a child node process (`--expose-gc`) opens the resource with
 *   max_series = N and marks N random series hashes through it; the figure is the growth of the
 *   heap plus off-heap memory (`heapUsed + external`: the table is typed arrays) after a full GC,
 *   divided by N. RSS growth is reported beside it.
 * - Tier 2 (`redis_dedup`): a private redis-server (no persistence) per run; the resource, sized
 *   with expected_series = N, marks N random hashes in batches of 10,000 as the dedup stage does;
 *   the figure is the growth of Redis' `used_memory` divided by N.
 *
 *   npx tsx bench/scenarios/dedup-memory.ts [--quick] [--runs n]     (quick: 1M only)
 */
import { corpusDir } from '../../test/support/corpus.js';
import { execFile } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { BucketLayout } from '../../src/dedup/bucket-layout.js';
import type { DedupTier } from '../../src/dedup/tier.js';
import { silentLogger } from '../../src/logger.js';
import { memoryDedup, memoryDedupConfig } from '../../src/resources/memory-dedup.js';
import { openRedisDedup, redisDedupConfig } from '../../src/resources/redis-dedup.js';
import { ThrowawayRedis } from '../../test/redis/support.js';
import { figure, type Figure, type Scenario, type ScenarioResult } from '../lib/scenario.js';

const TIER1_TARGET = 48;
const TIER2_TARGET = 40;
const BATCH = 10_000;
const CHILD_FLAG = '--tier1-child';

interface Tier1Run {
  heapBytesPerSeries: number;
  rssBytesPerSeries: number;
  tableBytes: number;
}

interface Tier2Run {
  bytesPerSeries: number;
  seconds: number;
  encodings: string;
  layout: string;
}

export const scenario: Scenario = {
  id: 'dedup-memory',
  title: 'Dedup memory per series: in-process tier (memory_dedup) and Redis tier (redis_dedup)',
  needs: ['redis'], // the redis-server binary: each run starts a private server
  async run(ctx) {
    const sizes = ctx.quick ? [1_000_000] : [1_000_000, 5_000_000];
    const figures: Record<string, Figure> = {};
    const findings: string[] = [];
    for (const n of sizes) {
      const tag = `${n / 1_000_000}m`;
      const runs: Tier1Run[] = [];
      for (let r = 0; r < ctx.runs; r++) {
        runs.push(await tier1InChild(n));
        ctx.log(`dedup-memory tier 1, ${tag} run ${r + 1}/${ctx.runs}: ${runs[r].heapBytesPerSeries.toFixed(1)} bytes/series (rss ${runs[r].rssBytesPerSeries.toFixed(1)})`);
      }
      const heap = (figures[`tier1_bytes_per_series_${tag}`] = figure(
        runs.map((r) => r.heapBytesPerSeries),
        'bytes/series',
        { target: { op: '<=', value: TIER1_TARGET }, note: `heapUsed + external growth after GC, max_series = ${n.toLocaleString('en')}, full table (typed arrays: ${(runs[0].tableBytes / 2 ** 20).toFixed(1)} MiB)` },
      ));
      figures[`tier1_rss_bytes_per_series_${tag}`] = figure(
        runs.map((r) => r.rssBytesPerSeries),
        'bytes/series',
        { note: 'RSS growth of the same process (allocator and GC heap sizing included)' },
      );
      if (heap.value > TIER1_TARGET) findings.push(`tier1_bytes_per_series_${tag} ${heap.value.toFixed(1)} exceeds the ${TIER1_TARGET}-byte target by ${(heap.value - TIER1_TARGET).toFixed(1)} bytes.`);
    }
    for (const n of sizes) {
      const tag = `${n / 1_000_000}m`;
      const runs: Tier2Run[] = [];
      for (let r = 0; r < ctx.runs; r++) {
        runs.push(await tier2OnPrivateRedis(n));
        ctx.log(`dedup-memory tier 2, ${tag} run ${r + 1}/${ctx.runs}: ${runs[r].bytesPerSeries.toFixed(1)} bytes/series in ${runs[r].seconds.toFixed(0)} s (${runs[r].encodings})`);
      }
      const used = (figures[`tier2_bytes_per_series_${tag}`] = figure(
        runs.map((r) => r.bytesPerSeries),
        'bytes/series',
        { target: { op: '<=', value: TIER2_TARGET }, note: `Redis used_memory growth, expected_series = ${n.toLocaleString('en')}: ${runs[0].layout}; sampled buckets: ${runs[0].encodings}` },
      ));
      if (used.value > TIER2_TARGET) {
        findings.push(`tier2_bytes_per_series_${tag} ${used.value.toFixed(1)} exceeds the ${TIER2_TARGET}-byte target by ${(used.value - TIER2_TARGET).toFixed(1)} bytes (sampled bucket encodings: ${runs[0].encodings}).`);
      }
    }
    const result: ScenarioResult = { id: this.id, title: this.title, figures };
    if (findings.length > 0) result.findings = findings;
    return result;
  },
};

/** Runs the tier-1 measurement in a fresh `node --expose-gc` (this file, with CHILD_FLAG). */
async function tier1InChild(n: number): Promise<Tier1Run> {
  const self = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', self, CHILD_FLAG, String(n)], { cwd: fileURLToPath(new URL('../../', import.meta.url)), maxBuffer: 2 ** 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Tier1Run;
}

/** In the child: memory before opening the tier and after marking N series, both after full GCs. */
async function measureTier1(n: number): Promise<Tier1Run> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const settle = () => {
    for (let i = 0; i < 3; i++) gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed + m.external, rss: m.rss };
  };
  const before = settle();
  const tier = await memoryDedup.open(memoryDedupConfig.parse({ max_series: n, ttl: '1h' }), { name: 'bench', logger: silentLogger(), dataDir: '/tmp' });
  const now = Date.now();
  for (let done = 0; done < n; done += BATCH) await markRandom(tier, Math.min(BATCH, n - done), now - Math.floor(Math.random() * 1_800_000));
  if (tier.table.size !== n) throw new Error(`the table holds ${tier.table.size} series, not ${n}`);
  const after = settle();
  const result = { heapBytesPerSeries: (after.heap - before.heap) / n, rssBytesPerSeries: (after.rss - before.rss) / n, tableBytes: tier.table.bytes };
  await tier.close();
  return result;
}

async function tier2OnPrivateRedis(n: number): Promise<Tier2Run> {
  const server = await ThrowawayRedis.start();
  try {
    const prefix = `weir:bench:${randomBytes(4).toString('hex')}`;
    const resource = await openRedisDedup(redisDedupConfig.parse({ url: server.url, key_prefix: prefix, expected_series: n, command_timeout: '30s', ttl: '1h' }), {
      name: 'bench',
      logger: silentLogger(),
      dataDir: '/tmp',
      registry: new Registry(),
    });
    // The tier's own connection speaks only its commands: INFO and OBJECT go through another.
    const client = new Redis(server.url);
    try {
      const { tier } = resource;
      if (!resource.ready()) throw new Error(`no Redis at ${server.url}`);
      const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
      const before = await usedMemory();
      const started = performance.now();
      const now = Date.now();
      for (let done = 0; done < n; done += BATCH) {
        // Mark times spread over the last half hour, as a real tier holds them.
        await markRandom(tier, Math.min(BATCH, n - done), now - Math.floor(Math.random() * 1_800_000));
        if (!tier.healthy()) throw new Error('the Redis tier went down during the benchmark');
      }
      const seconds = (performance.now() - started) / 1000;
      const after = await usedMemory();
      const layout = new BucketLayout(prefix, n);
      const encodings = new Map<string, number>();
      for (let i = 0; i < 100; i++) {
        const encoding = String(await client.object('ENCODING', layout.key(Math.floor((i * layout.buckets) / 100))));
        encodings.set(encoding, (encodings.get(encoding) ?? 0) + 1);
      }
      return {
        bytesPerSeries: (after - before) / n,
        seconds,
        encodings: [...encodings].map(([e, k]) => `${k}% ${e}`).join(', '),
        layout: `${layout.buckets.toLocaleString('en')} buckets of ~${Math.round(n / layout.buckets)} series, ${layout.fieldBytes}-byte fields`,
      };
    } finally {
      client.disconnect();
      await resource.close();
    }
  } finally {
    await server.stop();
  }
}

/** Marks `count` random series hashes (as the uint32 halves tiers take) at `at`. */
function markRandom(tier: DedupTier, count: number, at: number): Promise<void> {
  const halves = randomFillSync(new Uint32Array(2 * count));
  return tier.markPairs(halves.subarray(0, count), halves.subarray(count), count, at);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const childAt = process.argv.indexOf(CHILD_FLAG);
  if (childAt > 0) {
    console.log(JSON.stringify(await measureTier1(Number(process.argv[childAt + 1]))));
  } else {
    const quick = process.argv.includes('--quick');
    const runsAt = process.argv.indexOf('--runs');
    const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : quick ? 1 : 3;
    const result = await scenario.run({ runs, quick, corpusDir: corpusDir(), log: (m) => console.error(m) });
    console.log(JSON.stringify(result, null, 2));
  }
}
