import { randomUUID } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { SeriesIndex } from '../index/series-index.js';
import type { Logger } from '../logger.js';
import { RuntimeMetrics } from '../runtime/metrics.js';
import { startTopology } from '../topology/compile.js';
import type { PipelineSpec, TopologySpec } from '../topology/load.js';
import type { Registry } from '../topology/registry.js';
import type { KafkaSourceConfig } from '../stages/sources/kafka/stage.js';
import { ProgressLine } from './progress-line.js';

export interface ReplayOptions {
  spec: TopologySpec;
  registry: Registry;
  logger: Logger;
  dataDir: string;
  topic?: string;
  /** `partition:offset` pairs, e.g. `0:0,1:0`. */
  fromOffset?: string;
  fromTimestamp?: string;
  toTimestamp?: string;
  pipeline?: string;
  /** Where the progress bar goes (stderr by default). */
  out?: NodeJS.WritableStream;
}

export interface ReplaySummary {
  pipeline: string;
  topic: string;
  group: string;
  records: number;
  seriesBefore?: number;
  seriesAfter?: number;
  seconds: number;
}

/**
 * Re-index from Kafka: run the topology's Kafka pipeline alone, in a consumer group of its own
 * (the live group's offsets are never touched), from the given offsets or time to the end offsets
 * as of the start (or `toTimestamp`). Writes are upserts, so running it twice changes nothing.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  if (!options.fromOffset && !options.fromTimestamp) throw new ConfigError('replay needs --from-offset or --from-timestamp');
  const pipeline = pickPipeline(options.spec, options.pipeline);
  const source = pipeline.source.config as KafkaSourceConfig;
  const topic = options.topic ?? source.topic;
  const group = `weir-replay-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 6)}`;
  const replaySpec: TopologySpec = {
    ...options.spec,
    api: {},
    pipelines: [
      {
        ...pipeline,
        source: {
          ...pipeline.source,
          config: { ...source, topic, group_id: group, start_from: options.fromOffset ?? options.fromTimestamp!, stop_at: options.toTimestamp ?? 'end', create_topic_partitions: undefined },
        },
      },
    ],
  };
  const progress = new ProgressLine(options.out ?? process.stderr, `replay ${topic}`);
  const started = Date.now();
  let records = 0;
  const topology = await startTopology(replaySpec, {
    registry: options.registry,
    logger: options.logger,
    metrics: new RuntimeMetrics(),
    dataDir: options.dataDir,
    // A replay takes no HTTP traffic.
    http: { post: () => undefined, limits: { maxBodyBytes: 0, maxDecodedBytes: 0 }, draining: () => true },
    onProgress: (_p, update) => {
      records = update.consumed;
      progress.update(update.consumed, update.total);
    },
  });
  const index = indexOf(replaySpec, topology.resource.bind(topology));
  const seriesBefore = index ? (await index.stats()).series : undefined;
  let seriesAfter: number | undefined;
  try {
    await topology.pipelines[0].completed;
    seriesAfter = index ? (await index.stats()).series : undefined;
  } finally {
    await topology.stop(30_000);
    progress.done();
  }
  return { pipeline: pipeline.name, topic, group, records, seriesBefore, seriesAfter, seconds: (Date.now() - started) / 1000 };
}

function pickPipeline(spec: TopologySpec, name?: string): PipelineSpec {
  const candidates = spec.pipelines.filter((p) => p.source.type === 'kafka' && (name === undefined || p.name === name));
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) throw new ConfigError(name ? `no pipeline "${name}" with a kafka source in topology ${spec.name}` : `topology ${spec.name} has no pipeline with a kafka source to replay`);
  throw new ConfigError(`topology ${spec.name} has several kafka pipelines (${candidates.map((p) => p.name).join(', ')}): choose one with --pipeline`);
}

/** The series index the pipeline writes to, to report how many series the replay brought back. */
function indexOf(spec: TopologySpec, resource: <R>(name: string) => R): SeriesIndex | undefined {
  const sink = spec.pipelines[0].steps.find((s) => s.type === 'series_index');
  const name = (sink?.config as { index?: string } | undefined)?.index;
  return name ? resource<SeriesIndex>(name) : undefined;
}

export function formatSummary(s: ReplaySummary): string {
  const rate = s.seconds > 0 ? Math.round(s.records / s.seconds) : s.records;
  const series = s.seriesAfter !== undefined ? `; index: ${s.seriesBefore} → ${s.seriesAfter} series` : '';
  return `replayed ${s.records} records of ${s.topic} through pipeline ${s.pipeline} in ${s.seconds.toFixed(1)} s (${rate} records/s)${series}; consumer group ${s.group} (live groups untouched)`;
}
