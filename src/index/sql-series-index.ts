import type { Logger } from '../logger.js';
import { queryLabelNames, queryLabelValues, queryMetadata, querySeries } from './queries.js';
import { applyMigrations } from './schema.js';
import type { HashCollision, SeriesIndex } from './series-index.js';
import type { SqlStore } from './sql-store.js';
import { writeSeriesBatch } from './write-batch.js';

export interface SqlSeriesIndexOptions {
  /** Collisions are also counted in `stats()`; log them here. */
  logger?: Logger;
  /** Called once per collision, after the batch committed (e.g. to count it in a metric). */
  onHashCollision?: (collision: HashCollision) => void;
}

/**
 * The `SeriesIndex` over any `SqlStore`: applies pending migrations, then serves reads and writes.
 * The store is owned by the index from here on: `close()` closes it.
 */
export async function createSqlSeriesIndex(store: SqlStore, { logger, onHashCollision }: SqlSeriesIndexOptions = {}): Promise<SeriesIndex> {
  const applied = await applyMigrations(store);
  if (applied.length > 0) logger?.info({ versions: applied, dialect: store.dialect.name }, 'series index schema migrated');
  let hashCollisions = 0;

  return {
    async writeBatch(batch) {
      const result = await writeSeriesBatch(store, batch);
      for (const collision of result.hashCollisions) {
        hashCollisions += 1;
        logger?.warn(
          { hash: collision.hash.toString(), keptKey: collision.keptKey, droppedKey: collision.droppedKey },
          'series hash collision: kept the stored series, dropped the new one',
        );
        onHashCollision?.(collision);
      }
      return result;
    },
    series: (matcherSets, query) => querySeries(store, matcherSets, query),
    labelNames: (query) => queryLabelNames(store, query),
    labelValues: (name, query) => queryLabelValues(store, name, query),
    metadata: (query) => queryMetadata(store, query),
    async stats() {
      const [row] = await store.query<{ series: number | bigint }>('SELECT COUNT(*) AS series FROM series');
      return { series: Number(row?.series ?? 0), hashCollisions };
    },
    close: () => store.close(),
  };
}
