/**
 * How fast do the remote-write encoders write the corpus? The hand-written encoders
 * (src/remote-write/encode/) against the protobufjs reference codec, 1.0 and 2.0, on every body of
 * the corpus decoded beforehand (with the fast decoder: every series built); the 2.0 requests carry
 * each series' family metadata, as a 2.0 sender sends it. Prints the median time per body.
 *
 *   npx tsx bench/remote-write-encode.ts [rounds=30] [case name filter] [corpus=prometheus-2.42-selfscrape]
 *
 * CPU time (user + system, all threads) is the figure: on a shared machine it moves less than wall
 * time, which is printed beside it. Compare two builds by alternating their runs.
 */
import { decodeRemoteWrite, encodeWriteRequestV1, encodeWriteRequestV2 } from '../src/remote-write/index.js';
import {
  encodeWriteRequestV1 as referenceV1,
  encodeWriteRequestV2 as referenceV2,
} from '../src/remote-write/reference-codec.test-support.js';
import type { WriteRequest } from '../src/remote-write/types.js';
import { corpusDir, loadCorpus, type CorpusName } from '../test/support/corpus.js';

const rounds = Number(process.argv[2] ?? 30);
const only = process.argv[3] || undefined;
const corpus = (process.argv[4] ?? 'prometheus-2.42-selfscrape') as CorpusName;
const MAX = 64 << 20;

const v1 = loadCorpus(corpusDir(corpus)).map(({ body }) =>
  decodeRemoteWrite(body, { version: '1.0', maxDecodedBytes: MAX, decoder: 'fast' }),
);
const v2 = v1.map((req): WriteRequest => {
  const metadataOf = new Map(req.metadata.map((entry) => [entry.metricFamilyName, entry]));
  const timeseries = req.timeseries.map((series) => {
    const entry = metadataOf.get(series.labels.find((label) => label.name === '__name__')?.value ?? '');
    return entry === undefined ? series : { ...series, metadata: { type: entry.type, help: entry.help, unit: entry.unit } };
  });
  return { version: '2.0', timeseries, metadata: req.metadata };
});
const bytes = (reqs: WriteRequest[], encode: (req: WriteRequest) => Uint8Array) =>
  reqs.reduce((sum, req) => sum + encode(req).length, 0) / reqs.length;

const cases: Record<string, (i: number) => number> = {
  '1.0 hand-written': (i) => encodeWriteRequestV1(v1[i]).length,
  '1.0 protobufjs': (i) => referenceV1(v1[i]).length,
  '2.0 hand-written': (i) => encodeWriteRequestV2(v2[i]).length,
  '2.0 protobufjs': (i) => referenceV2(v2[i]).length,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(
  `corpus ${corpus}: ${v1.length} requests, ${v1.reduce((n, req) => n + req.timeseries.length, 0)} series; ` +
    `mean body ${bytes(v1, encodeWriteRequestV1).toFixed(0)} B (1.0), ${bytes(v2, encodeWriteRequestV2).toFixed(0)} B (2.0); ` +
    `median of ${rounds} rounds after warm-up`,
);
for (const [name, encode] of Object.entries(cases)) {
  if (only !== undefined && !name.includes(only)) continue;
  let sink = 0;
  for (let r = 0; r < 5; r++) for (let i = 0; i < v1.length; i++) sink += encode(i);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const startCpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < v1.length; i++) sink += encode(i);
    wall.push(Number(process.hrtime.bigint() - start) / 1e3 / v1.length);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / v1.length);
  }
  console.log(`${name.padEnd(20)} ${median(cpu).toFixed(1).padStart(7)} µs CPU/body  (wall ${median(wall).toFixed(1)} µs; ${sink})`);
}
