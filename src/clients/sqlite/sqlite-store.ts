import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DownstreamError } from '../../errors.js';
import type { SqlExecutor, SqlStore, SqlValue } from '../../index/sql-store.js';
import { sqliteDialect } from './sqlite-dialect.js';

export interface SqliteStoreOptions {
  /** Database file (its directory is created), or `:memory:`. */
  path: string;
  /** How long a statement waits for another process's write lock before failing (retriably). */
  busyTimeoutMs?: number;
  /** Page cache per connection. SQLite's default (2 MiB) thrashes on random series-hash keys. */
  cacheSizeMiB?: number;
}

/** better-sqlite3's cost is in `prepare`; the index runs a small set of statement shapes. */
const STATEMENT_CACHE_SIZE = 256;

/** Error codes worth retrying: another connection holds the lock. */
const RETRIABLE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

/**
 * The SQLite adapter of `SqlStore`, over better-sqlite3 (synchronous; wrapped in promises so the
 * same index code runs on MySQL). Integers come back as `bigint`, so 64-bit hashes stay exact.
 *
 * One connection serves everything, so operations are queued: a read never sees a half-written
 * batch and two transactions never interleave across an `await`.
 */
export function openSqliteStore({ path, busyTimeoutMs = 5_000, cacheSizeMiB = 32 }: SqliteStoreOptions): SqlStore {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    if (!inMemory) db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a crash can lose the last transactions, never corrupt; the index is rebuilt from traffic.
    db.pragma('synchronous = NORMAL');
    db.pragma('temp_store = MEMORY');
    // A negative cache_size is in KiB.
    db.pragma(`cache_size = ${-Math.max(1, Math.trunc(cacheSizeMiB)) * 1024}`);
  } catch (err) {
    throw toDownstreamError(err, `opening ${path}`);
  }
  return new SqliteStore(db);
}

class SqliteStore implements SqlStore {
  readonly dialect = sqliteDialect;
  private readonly statements = new Map<string, Database.Statement>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Runs statements directly: used inside a transaction, which already holds the queue. */
  private readonly direct: SqlExecutor = {
    query: async <Row>(sql: string, params: readonly SqlValue[] = []) => this.runQuery<Row>(sql, params),
    exec: async (sql: string, params: readonly SqlValue[] = []) => this.runExec(sql, params),
  };

  constructor(private readonly db: Database.Database) {}

  query<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.serialized(async () => this.runQuery<Row>(sql, params));
  }

  exec(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.serialized(async () => this.runExec(sql, params));
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.serialized(async () => {
      this.runExec('BEGIN IMMEDIATE', []);
      try {
        const result = await work(this.direct);
        this.runExec('COMMIT', []);
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  close(): Promise<void> {
    return this.serialized(async () => {
      this.statements.clear();
      this.db.close();
    });
  }

  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private runQuery<Row>(sql: string, params: readonly SqlValue[]): Row[] {
    try {
      return this.prepare(sql).all(...params) as Row[];
    } catch (err) {
      throw toDownstreamError(err, sql);
    }
  }

  private runExec(sql: string, params: readonly SqlValue[]): { changes: number } {
    try {
      return { changes: this.prepare(sql).run(...params).changes };
    } catch (err) {
      throw toDownstreamError(err, sql);
    }
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement) {
      // Re-insert to keep the map in least-recently-used order.
      this.statements.delete(sql);
    } else {
      statement = this.db.prepare(sql);
      if (statement.reader) statement.safeIntegers(true);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, statement);
    return statement;
  }
}

function toDownstreamError(err: unknown, context: string): DownstreamError {
  const code = (err as { code?: unknown }).code;
  const retriable = typeof code === 'string' && RETRIABLE_CODES.has(code);
  const shown = context.length > 200 ? `${context.slice(0, 200)}…` : context;
  return new DownstreamError(`SQLite: ${(err as Error).message} (${shown})`, { cause: err, retriable });
}
