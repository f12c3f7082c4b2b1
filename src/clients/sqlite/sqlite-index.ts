import { createSqlSeriesIndex, type SqlSeriesIndexOptions } from '../../index/sql-series-index.js';
import type { SeriesIndex } from '../../index/series-index.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

export type SqliteIndexOptions = SqliteStoreOptions & SqlSeriesIndexOptions;

/**
 * The series index in one SQLite file (created with its directory on first use; WAL mode), or in
 * memory with `path: ':memory:'`. Pending schema migrations are applied before it resolves.
 */
export async function openSqliteIndex({ path, busyTimeoutMs, cacheSizeMiB, ...indexOptions }: SqliteIndexOptions): Promise<SeriesIndex> {
  const store = openSqliteStore({ path, busyTimeoutMs, cacheSizeMiB });
  try {
    return await createSqlSeriesIndex(store, indexOptions);
  } catch (err) {
    await store.close();
    throw err;
  }
}
