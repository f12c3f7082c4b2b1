/**
 * Realistic, distinct series for benchmarks: what a fleet of scraped targets exports. Series `i`
 * belongs to target `floor(i / SERIES_PER_TARGET)` (its `job`, `instance`, `namespace`, `pod`) and is
 * the `i % SERIES_PER_TARGET`-th series of that target's families (node, HTTP, gRPC, Go runtime,
 * Kafka client...), each family with its own dimension labels (`cpu`/`mode`, `handler`/`le`, ...).
 * That mapping is one-to-one, so every index gives a different label set: N calls, N distinct series.
 *
 * Every series has `__name__`, `cluster`, `instance`, `job`, `namespace`, `pod` and 0 to 3 family
 * labels: 3 to 6 labels besides metric name, job and instance. `cluster` is the salt: two
 * generators with different salts share no series.
 */
import type { CanonicalSeries } from '../../src/series/canonical.js';
import { seriesHash } from '../../src/series/series-hash.js';
import { seriesKey } from '../../src/series/series-key.js';
import { compressSnappy } from '../../src/remote-write/snappy.js';
import { encodeWriteRequestV1 } from '../../src/remote-write/reference-codec.test-support.js';
import type { Label } from '../../src/remote-write/types.js';

interface Family {
  name: string;
  dimensions: Array<[label: string, values: readonly string[]]>;
}

const HANDLERS = ['/api/v1/query', '/api/v1/write', '/api/v1/series', '/healthz', '/metrics', '/login'];
const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];

const FAMILIES: Family[] = [
  { name: 'up', dimensions: [] },
  { name: 'process_cpu_seconds_total', dimensions: [] },
  { name: 'process_resident_memory_bytes', dimensions: [] },
  { name: 'go_goroutines', dimensions: [] },
  { name: 'go_gc_duration_seconds', dimensions: [['quantile', ['0', '0.25', '0.5', '0.75', '1']]] },
  { name: 'node_cpu_seconds_total', dimensions: [['cpu', ['0', '1', '2', '3']], ['mode', ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user']]] },
  { name: 'node_filesystem_avail_bytes', dimensions: [['device', ['/dev/sda1', '/dev/sda2', '/dev/nvme0n1p1', 'tmpfs']], ['fstype', ['ext4', 'xfs']]] },
  { name: 'node_network_receive_bytes_total', dimensions: [['device', ['eth0', 'eth1', 'lo', 'docker0']]] },
  { name: 'container_memory_working_set_bytes', dimensions: [['container', ['app', 'sidecar', 'init', 'istio-proxy']]] },
  { name: 'http_requests_total', dimensions: [['code', ['200', '201', '400', '404', '500']], ['handler', HANDLERS], ['method', ['GET', 'POST', 'PUT', 'DELETE']]] },
  { name: 'http_request_duration_seconds_bucket', dimensions: [['handler', HANDLERS], ['le', BUCKETS]] },
  { name: 'http_request_duration_seconds_count', dimensions: [['handler', HANDLERS]] },
  { name: 'http_request_duration_seconds_sum', dimensions: [['handler', HANDLERS]] },
  { name: 'grpc_server_handled_total', dimensions: [['grpc_code', ['OK', 'Canceled', 'Unavailable', 'Internal']], ['grpc_method', ['Get', 'List', 'Put', 'Delete', 'Watch']], ['grpc_service', ['store.v1.Store', 'auth.v1.Auth', 'feed.v1.Feed']]] },
  { name: 'kafka_consumer_lag_records', dimensions: [['partition', ['0', '1', '2', '3', '4', '5', '6', '7']], ['topic', ['orders', 'payments', 'events', 'audit', 'clicks']]] },
];

const SERIES_OF_FAMILY = FAMILIES.map((f) => f.dimensions.reduce((n, [, values]) => n * values.length, 1));
/** Series one target exports (the sum over its families' label combinations): 361. */
export const SERIES_PER_TARGET = SERIES_OF_FAMILY.reduce((a, b) => a + b, 0);
const JOBS = ['node-exporter', 'api-gateway', 'checkout', 'payments', 'search', 'auth', 'kafka-consumer', 'ingest', 'frontend', 'billing', 'inventory', 'recommendations'];

export interface SyntheticSeriesOptions {
  /** Value of the `cluster` label: different salts give disjoint series. */
  salt?: string;
  /** Sample time (ms) for first/last timestamps; default now. */
  time?: number;
}

/** The labels of series `i`, sorted by name. */
export function syntheticLabels(i: number, salt = 'bench'): Label[] {
  const target = Math.floor(i / SERIES_PER_TARGET);
  let j = i % SERIES_PER_TARGET;
  let family = 0;
  while (j >= SERIES_OF_FAMILY[family]) j -= SERIES_OF_FAMILY[family++];
  const job = JOBS[target % JOBS.length];
  // Target numbers past 2^24 would repeat the address; the port keeps them apart (up to 2^24 * 50,000 targets).
  const address = `10.${(target >> 16) & 255}.${(target >> 8) & 255}.${target & 255}:${9100 + Math.floor(target / 2 ** 24)}`;
  const labels: Label[] = [
    { name: '__name__', value: FAMILIES[family].name },
    { name: 'cluster', value: salt },
    { name: 'instance', value: address },
    { name: 'job', value: job },
    { name: 'namespace', value: `${job}-${target % 7 === 0 ? 'staging' : 'prod'}` },
    { name: 'pod', value: `${job}-${(target * 2654435761 >>> 0).toString(36).slice(0, 5)}-${target.toString(36)}` },
  ];
  // Mixed radix over the family's dimensions.
  for (const [name, values] of FAMILIES[family].dimensions) {
    labels.push({ name, value: values[j % values.length] });
    j = Math.floor(j / values.length);
  }
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function syntheticSeries(i: number, options: SyntheticSeriesOptions = {}): CanonicalSeries {
  const labels = syntheticLabels(i, options.salt);
  const time = options.time ?? Date.now();
  return { labels, metricName: labels[0].value, key: seriesKey(labels), hash: seriesHash(labels), firstTimestamp: time, lastTimestamp: time };
}

/** Series `from` .. `from + count - 1`. */
export function syntheticSeriesRange(from: number, count: number, options: SyntheticSeriesOptions = {}): CanonicalSeries[] {
  const time = options.time ?? Date.now();
  return Array.from({ length: count }, (_, k) => syntheticSeries(from + k, { ...options, time }));
}

/** A snappy-compressed remote-write 1.0 body carrying one sample (at `timestamp`) per label set. */
export function remoteWriteBody(labelSets: readonly Label[][], timestamp: number): Uint8Array {
  const encoded = encodeWriteRequestV1({
    version: '1.0',
    timeseries: labelSets.map((labels, k) => ({ labels, samples: [{ value: k, timestamp }], exemplars: [], histograms: [] })),
    metadata: [],
  });
  return compressSnappy(encoded);
}
