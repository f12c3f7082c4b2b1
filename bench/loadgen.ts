/**
 * The load generator on its own: replays remote-write bodies at a running server (weir, vmagent,
 * Prometheus…) and prints throughput, latency and statuses.
 *
 *   npx tsx bench/loadgen.ts [--url http://127.0.0.1:9201/api/v1/write] [--dir <bodies>]
 *        [--concurrency 8] [--duration 10] [--requests N] [--once] [--json]
 *   npx tsx bench/loadgen.ts --synthetic [--series 100000] [--new-share 0.05] [--per-request 500]
 *        [--bodies 2000] [--rw 1.0|2.0] [--salt bench] ...
 *
 * Without --dir it replays the corpus (WEIR_CORPUS_DIR or ../shared/corpus/…). --synthetic sends
 * pre-encoded bodies from a pool of --series distinct series, --new-share of each body's series
 * never sent before (--series 0: every series new). --once sends each body at most once.
 * Loads are bounded by --duration (seconds) and --requests, whichever ends first.
 */
import { parseArgs } from 'node:util';
import { corpusDir } from '../test/support/corpus.js';
import { formatStatuses, runLoad, type Payload } from './lib/loadgen.js';
import { loadPayloadDir, totals } from './lib/payloads.js';
import { syntheticPayloads } from './lib/synthetic.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:9201/api/v1/write' },
    dir: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    duration: { type: 'string', default: '10' },
    requests: { type: 'string' },
    once: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    synthetic: { type: 'boolean', default: false },
    series: { type: 'string', default: '100000' },
    'new-share': { type: 'string', default: '0.05' },
    'per-request': { type: 'string', default: '500' },
    bodies: { type: 'string', default: '2000' },
    rw: { type: 'string', default: '1.0' },
    salt: { type: 'string', default: 'bench' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function usage(message?: string): never {
  if (message) console.error(`loadgen: ${message}`);
  console.error('usage: see the comment at the top of bench/loadgen.ts');
  process.exit(2);
}

function positive(name: string, value: string | undefined, { integer = true, allowZero = false } = {}): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0) || (integer && !Number.isInteger(n))) usage(`--${name} must be a ${integer ? 'whole ' : ''}number, got "${value}"`);
  return n;
}

if (args.help) usage();
const url = new URL(args.url!);
if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') usage(`--url must be on 127.0.0.1, got ${url.hostname}`);
if (args.rw !== '1.0' && args.rw !== '2.0') usage(`--rw must be 1.0 or 2.0, got "${args.rw}"`);
const version = args.rw;

let payloads: Payload[];
const prepared = performance.now();
if (args.synthetic) {
  const newShare = positive('new-share', args['new-share'], { integer: false, allowZero: true });
  payloads = syntheticPayloads({
    series: positive('series', args.series, { allowZero: true }),
    perRequest: positive('per-request', args['per-request']),
    newShare,
    requests: positive('bodies', args.bodies),
    version,
    salt: args.salt,
  });
} else {
  payloads = loadPayloadDir(args.dir ?? corpusDir(), version);
}
const bodies = totals(payloads);
console.error(
  `loadgen: ${bodies.requests} bodies, ${bodies.samples.toLocaleString('en-US')} samples, ${(bodies.bytes / 2 ** 20).toFixed(1)} MiB, prepared in ${((performance.now() - prepared) / 1000).toFixed(1)} s`,
);

const result = await runLoad({
  url: url.href,
  payloads,
  concurrency: positive('concurrency', args.concurrency),
  durationMs: positive('duration', args.duration, { integer: false }) * 1000,
  maxRequests: args.requests === undefined ? undefined : positive('requests', args.requests),
  cycle: !args.once,
});

const perSecond = (n: number) => Math.round(n / result.elapsedSeconds);
if (args.json) {
  console.log(JSON.stringify({ ...result, samplesPerSecond: perSecond(result.acceptedSamples), seriesPerSecond: perSecond(result.acceptedSeries) }, null, 1));
} else {
  const { p50, p99, max } = result.latencyMs;
  console.log(`${result.requests} requests in ${result.elapsedSeconds.toFixed(2)} s: ${formatStatuses(result.statuses)}`);
  console.log(`accepted ${perSecond(result.acceptedSamples).toLocaleString('en-US')} samples/s, ${perSecond(result.acceptedSeries).toLocaleString('en-US')} series/s`);
  console.log(`latency p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms`);
}
