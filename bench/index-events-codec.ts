/**
 * How fast is the weir.v1.IndexEvents codec on the ingest and indexer hot paths? Encodes ~100k
 * synthetic series as the Kafka sink does (from CanonicalSeries, and from a raw request's label
 * bytes as a HashedSeriesBatch), decodes the messages as the indexer does, and prints the median
 * time per round of each.
 *
 *   npx tsx bench/index-events-codec.ts [rounds=15] [series=100000]
 *
 * CPU time (user + system, all threads) is the figure: on a shared machine it moves less than wall
 * time, which is printed beside it. Compare two builds by alternating their runs.
 */
import type { SeriesBatch } from '../src/series/canonical.js';
import { hashHigh, hashLow } from '../src/series/series-hash.js';
import { HashedSeriesBatch } from '../src/series/hashed-batch.js';
import { decodeIndexEvents, encodeSeriesBatch } from '../src/events/index-event.js';
import { scanWriteRequestV1 } from '../src/remote-write/decode/raw-v1.js';
import { decompressSnappy } from '../src/remote-write/snappy.js';
import { remoteWriteBody, syntheticSeriesRange } from './lib/synthetic-series.js';

const rounds = Number(process.argv[2] ?? 15);
const count = Number(process.argv[3] ?? 100_000);
const PARTITIONS = 8;
const TIME = 1_700_000_000_000;

const series = syntheticSeriesRange(0, count, { salt: 'codec-bench', time: TIME });
const batch: SeriesBatch = { series, metadata: [], receivedAt: TIME, counts: { samples: count, histograms: 0, exemplars: 0 } };

// The same series as a raw remote-write request, every one a candidate, as canonicalize hands them on.
const request = scanWriteRequestV1(decompressSnappy(remoteWriteBody(series.map((s) => s.labels), TIME), Infinity));
if (request === undefined) throw new Error('synthetic body not in the raw decoder’s shape');
const hashed = (asSent: boolean) =>
  new HashedSeriesBatch(
    request,
    Int32Array.from(series, (_, i) => i),
    Uint32Array.from(series, (s) => hashHigh(s.hash)),
    Uint32Array.from(series, (s) => hashLow(s.hash)),
    count,
    [],
    [],
    TIME,
    batch.counts,
    undefined,
    asSent ? new Uint8Array(count).fill(1) : undefined,
  );
const fromBytesChecked = hashed(false);
const fromBytesAsSent = hashed(true);

const values = encodeSeriesBatch(batch, 'bench', PARTITIONS).map((e) => e.value);
const encodedBytes = values.reduce((sum, v) => sum + v.length, 0);

const cases: Record<string, () => number> = {
  'encode CanonicalSeries': () => encodeSeriesBatch(batch, 'bench', PARTITIONS).length,
  'encode raw label bytes (checked)': () => encodeSeriesBatch(fromBytesChecked, 'bench', PARTITIONS).length,
  'encode raw label bytes (as sent)': () => encodeSeriesBatch(fromBytesAsSent, 'bench', PARTITIONS).length,
  decode: () => decodeIndexEvents(values).batch.series.length,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`${count} series in ${values.length} messages, ${(encodedBytes / 1024).toFixed(0)} KiB; median of ${rounds} rounds after warm-up`);
// One case alone: `-- decode`.
const only = process.argv[4];
for (const [name, run] of Object.entries(cases)) {
  if (only !== undefined && !name.includes(only)) continue;
  let sink = 0;
  for (let i = 0; i < 5; i++) sink += run();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const startCpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    sink += run();
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1e3);
  }
  const ms = median(cpu);
  console.log(
    `${name.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms CPU/round  ${((ms * 1e6) / count).toFixed(0).padStart(5)} ns/series  (wall ${median(wall).toFixed(1)} ms; ${sink})`,
  );
}
