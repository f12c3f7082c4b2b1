import { kafka } from './resources/kafka.js';
import { memoryDedup } from './resources/memory-dedup.js';
import { mysqlIndex } from './resources/mysql-index.js';
import { redisDedup } from './resources/redis-dedup.js';
import { sqliteIndex } from './resources/sqlite-index.js';
import { httpRemoteWrite } from './stages/sources/http-remote-write.js';
import { kafkaSource } from './stages/sources/kafka/stage.js';
import { kafkaSink } from './stages/sinks/kafka-series/stage.js';
import { seriesIndexSink } from './stages/sinks/series-index.js';
import { canonicalize } from './stages/transforms/canonicalize.js';
import { decodeSeriesEvents } from './stages/transforms/decode-series-events.js';
import { dedup } from './stages/transforms/dedup.js';
import { window } from './stages/transforms/window.js';
import type { ProcessorDeclaration, ResourceDeclaration, SourceDeclaration } from './topology/declaration.js';
import { createRegistry, type Registry } from './topology/registry.js';

/** The stages and resources weir ships, listed explicitly. */
export function defaultRegistry(): Registry {
  return createRegistry({
    sources: [httpRemoteWrite, kafkaSource] as SourceDeclaration[],
    processors: [canonicalize, dedup, decodeSeriesEvents, window, kafkaSink, seriesIndexSink] as ProcessorDeclaration[],
    resources: [memoryDedup, redisDedup, sqliteIndex, mysqlIndex, kafka] as ResourceDeclaration[],
  });
}
