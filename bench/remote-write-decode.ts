/**
 * How fast do the remote-write decoders read the corpus? For the raw (default) and the fast
 * decoder: `decodeRemoteWrite` over every corpus body (snappy included), then the protobuf part
 * alone on bodies decompressed beforehand, and for raw also with every series built (a stage that
 * reads them all). Prints the median time per body.
 *
 *   npx tsx bench/remote-write-decode.ts [rounds=30] [case name filter]
 *
 * CPU time (user + system, all threads) is the figure: on a shared machine it moves less than wall
 * time, which is printed beside it. Compare two builds by alternating their runs.
 */
import { decodeRemoteWrite, decompressSnappy } from '../src/remote-write/index.js';
import { decodeWriteRequestFast } from '../src/remote-write/decode/fast-v1.js';
import { scanWriteRequestV1 } from '../src/remote-write/decode/raw-v1.js';
import { loadCorpus } from '../test/support/corpus.js';

const rounds = Number(process.argv[2] ?? 30);
const bodies = loadCorpus().map((entry) => entry.body);
const decoded = bodies.map((body) => decompressSnappy(body, Infinity));
const MAX = 64 << 20;

const cases: Record<string, (i: number) => number> = {
  'decodeRemoteWrite raw': (i) => decodeRemoteWrite(bodies[i], { version: '1.0', maxDecodedBytes: MAX }).metadata.length,
  'decodeRemoteWrite fast': (i) => decodeRemoteWrite(bodies[i], { version: '1.0', maxDecodedBytes: MAX, decoder: 'fast' }).timeseries.length,
  'protobuf only: raw scan': (i) => scanWriteRequestV1(decoded[i])!.seriesCount,
  'protobuf only: raw, series built': (i) => scanWriteRequestV1(decoded[i])!.timeseries.length,
  'protobuf only: fast': (i) => decodeWriteRequestFast(decoded[i], '1.0').timeseries.length,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`corpus: ${bodies.length} bodies; median of ${rounds} rounds after warm-up`);
const only = process.argv[3];
for (const [name, decode] of Object.entries(cases)) {
  if (only !== undefined && !name.includes(only)) continue;
  let sink = 0;
  for (let r = 0; r < 5; r++) for (let i = 0; i < bodies.length; i++) sink += decode(i);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const startCpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < bodies.length; i++) sink += decode(i);
    wall.push(Number(process.hrtime.bigint() - start) / 1e3 / bodies.length);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / bodies.length);
  }
  console.log(`${name.padEnd(34)} ${median(cpu).toFixed(1).padStart(7)} µs CPU/body  (wall ${median(wall).toFixed(1)} µs; ${sink})`);
}
