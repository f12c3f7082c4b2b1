import { createHash } from 'node:crypto';
import { applyMigrations } from '../../index/schema.js';
import type { SeriesIndex } from '../../index/series-index.js';
import { createSqlSeriesIndex, type SqlSeriesIndexOptions } from '../../index/sql-series-index.js';
import { openMysqlStore, type MysqlStore, type MysqlStoreOptions } from './mysql-store.js';

export interface MysqlIndexOptions extends MysqlStoreOptions, SqlSeriesIndexOptions {
  /** How long to wait for another process that is migrating the same database. */
  migrationLockTimeoutSeconds?: number;
}

export type MysqlSeriesIndex = SeriesIndex & {
  /** Applies pending schema migrations (already done at open; for a long-running process after an upgrade of the database by another). */
  migrate(): Promise<void>;
};

/**
 * The series index in a MySQL / MariaDB database, over a connection pool. Pending migrations are
 * applied before it resolves, under a named lock: MySQL DDL commits implicitly, so two processes
 * starting at once must not both run a migration's statements.
 *
 * Writes are one transaction per batch. A deadlock, a lock wait timeout, a lost connection or a
 * concurrent writer storing the same new series first fails the batch with a retriable
 * `DownstreamError`; `writeBatch` is idempotent, so the caller (the stage runtime's retry)
 * simply writes the batch again.
 */
export async function openMysqlIndex({
  logger,
  onHashCollision,
  migrationLockTimeoutSeconds = 60,
  ...storeOptions
}: MysqlIndexOptions): Promise<MysqlSeriesIndex> {
  const store = await openMysqlStore(storeOptions);
  const whileMigrating = <T>(work: () => Promise<T>) => store.withNamedLock(migrationLockName(store), migrationLockTimeoutSeconds, work);
  try {
    const index = await whileMigrating(() => createSqlSeriesIndex(store, { logger, onHashCollision }));
    return {
      ...index,
      async migrate() {
        const applied = await whileMigrating(() => applyMigrations(store));
        if (applied.length > 0) logger?.info({ versions: applied, dialect: 'mysql' }, 'series index schema migrated');
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Named locks are server-wide: one per database, within MySQL's 64-character limit for lock names. */
export function migrationLockName(store: Pick<MysqlStore, 'database'>): string {
  const name = `weir_migrate:${store.database}`;
  return name.length <= 64 ? name : `weir_migrate:${createHash('sha256').update(store.database).digest('hex').slice(0, 48)}`;
}
