import mysql, { type Connection, type ConnectionOptions, type Pool, type PoolConnection, type ResultSetHeader } from 'mysql2/promise';
import { DownstreamError } from '../../errors.js';
import type { ExecOptions, SqlExecutor, SqlStore, SqlValue } from '../../index/sql-store.js';
import { resolveMysqlConnection, type MysqlConnectionOptions, type ResolvedMysqlConnection } from './mysql-config.js';
import { mysqlDialect } from './mysql-dialect.js';
import { isFatalMysqlError, toDownstreamError } from './mysql-errors.js';

export interface MysqlStoreOptions extends MysqlConnectionOptions {
  /** Connections in the pool: how many transactions (and reads) run at once. */
  poolSize?: number;
  /** Create the database if it does not exist (needs the CREATE privilege). */
  createDatabase?: boolean;
  connectTimeoutMs?: number;
}

/** A `SqlStore` with the MySQL-only operations the index adapter needs. */
export interface MysqlStore extends SqlStore {
  readonly database: string;
  /**
   * Runs `work` while holding the server-wide named lock `name` (`GET_LOCK`), taken on a connection
   * of its own so `work` can use the whole pool. Fails retriably after `timeoutSeconds`.
   */
  withNamedLock<T>(name: string, timeoutSeconds: number, work: () => Promise<T>): Promise<T>;
}

/**
 * Set on every new connection. Strict mode makes a too long value an error, never a silent
 * truncation; an explicit sql_mode also rules out NO_BACKSLASH_ESCAPES, which the driver's
 * escaping relies on. `max_sort_length` (default 1024) is how many bytes of each string ORDER BY
 * looks at: raised so long series keys and values sort exactly, within what the sort buffer allows
 * (a sort needs room for about 16 keys, and the metadata query sorts by 4 texts): 32 KiB with the
 * default 2 MiB buffer.
 */
const SESSION_SETUP = [
  `SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION',
    max_sort_length = GREATEST(@@session.max_sort_length, LEAST(65536, @@session.sort_buffer_size DIV 64))`,
  // The write path needs no repeatable snapshot, and READ COMMITTED takes fewer gap locks.
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
];

const BINARY_STRING_TYPES = new Set(['BLOB', 'TINY_BLOB', 'MEDIUM_BLOB', 'LONG_BLOB', 'VAR_STRING', 'STRING', 'VARCHAR']);
/** Binary columns that hold bytes, not text: they stay Buffers, as BLOBs do on SQLite. */
const BYTES_COLUMNS = new Set(['hashes']);

/**
 * Text columns are binary (byte order), so mysql2 would return Buffers: read them as UTF-8 (but for
 * `BYTES_COLUMNS`). BIGINT arrives as an exact decimal string (`bigNumberStrings`) and becomes a
 * bigint, as on SQLite.
 */
const typeCast: ConnectionOptions['typeCast'] = (field, next) => {
  if (BYTES_COLUMNS.has(field.name)) return field.buffer();
  if (field.type === 'LONGLONG') {
    const digits = next() as string | null;
    return digits === null ? null : BigInt(digits);
  }
  if (BINARY_STRING_TYPES.has(field.type)) return field.string('utf8');
  return next();
};

function driverOptions(connection: ResolvedMysqlConnection, connectTimeoutMs: number): ConnectionOptions {
  return {
    ...connection,
    connectTimeout: connectTimeoutMs,
    charset: 'UTF8MB4_GENERAL_CI',
    supportBigNumbers: true,
    bigNumberStrings: true,
    typeCast,
    // Without FOUND_ROWS an upsert that changes nothing reports 0 affected rows: the write path
    // counts inserted series that way. No LOCAL INFILE, no multi-statements.
    flags: ['-FOUND_ROWS', '-LOCAL_FILES', '-MULTI_STATEMENTS'],
    enableKeepAlive: true,
    // The driver's formatter walks the whole statement looking for placeholders even when there
    // are no values (a window's reads carry thousands of literal hashes); with values it is the
    // driver's own `format`, as without this option.
    queryFormat: (sql: string, values: unknown, timezone?: string) =>
      values === undefined || (Array.isArray(values) && values.length === 0) ? sql : mysql.format(sql, values as Parameters<typeof mysql.format>[1], false, timezone),
    // Prepared statements kept per connection (least recently used closed first). The write path
    // has a few dozen shapes; the server caps them all together (max_prepared_stmt_count, 16,382).
    maxPreparedStatements: 128,
  };
}

/** Opens a pool on the index database (creating the database first if asked) and checks it answers. */
export async function openMysqlStore(options: MysqlStoreOptions): Promise<MysqlStore> {
  const { poolSize = 4, createDatabase = false, connectTimeoutMs = 10_000, ...where } = options;
  const connection = resolveMysqlConnection(where);
  const driver = driverOptions(connection, connectTimeoutMs);
  if (createDatabase) {
    const admin = await connect({ ...driver, database: undefined }, `connecting to ${connection.host}:${connection.port}`);
    try {
      // `??` is the driver's identifier escaping; the name is also checked by resolveMysqlConnection.
      await admin.query('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4', [connection.database]);
    } catch (err) {
      throw toDownstreamError(err, `creating database ${connection.database}`);
    } finally {
      await admin.end().catch(() => admin.destroy());
    }
  }
  const pool = mysql.createPool({ ...driver, connectionLimit: Math.max(1, Math.trunc(poolSize)), maxIdle: poolSize });
  const store = new MysqlPoolStore(pool, driver, connection.database);
  try {
    await store.query('SELECT 1');
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

async function connect(options: ConnectionOptions, context: string): Promise<Connection> {
  try {
    return await mysql.createConnection(options);
  } catch (err) {
    throw toDownstreamError(err, context);
  }
}

class MysqlPoolStore implements MysqlStore {
  readonly dialect = mysqlDialect;
  /** Pooled connections whose session settings are applied; the pool may replace connections. */
  private readonly prepared = new WeakSet<object>();
  private readonly broken = new WeakSet<object>();

  constructor(
    private readonly pool: Pool,
    private readonly options: ConnectionOptions,
    readonly database: string,
  ) {}

  query<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.withConnection((conn) => executorOn(conn).query<Row>(sql, params));
  }

  exec(sql: string, params: readonly SqlValue[] = [], options?: ExecOptions): Promise<{ changes: number }> {
    return this.withConnection((conn) => executorOn(conn).exec(sql, params, options));
  }

  /** One pooled connection for the whole transaction; rolled back if `work` throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.withConnection(async (conn) => {
      const tx = executorOn(conn);
      await tx.exec('START TRANSACTION');
      let result: T;
      try {
        result = await work(tx);
      } catch (err) {
        // After a deadlock InnoDB has rolled back already; ROLLBACK is then a no-op. If ROLLBACK
        // itself fails the connection is broken: discarded, and the caller sees the first error.
        await tx.exec('ROLLBACK').catch(() => this.broken.add(conn.connection));
        throw err;
      }
      await tx.exec('COMMIT');
      return result;
    });
  }

  async withNamedLock<T>(name: string, timeoutSeconds: number, work: () => Promise<T>): Promise<T> {
    const conn = await connect(this.options, `connecting to lock ${name}`);
    try {
      const [rows] = await conn.query('SELECT GET_LOCK(?, ?) AS acquired', [name, timeoutSeconds]);
      const acquired = (rows as { acquired: bigint | number | null }[])[0]?.acquired;
      if (Number(acquired) !== 1) {
        throw new DownstreamError(`MySQL: lock "${name}" still held by another process after ${timeoutSeconds}s`, { retriable: true });
      }
      try {
        return await work();
      } finally {
        await conn.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
      }
    } catch (err) {
      throw toDownstreamError(err, `GET_LOCK(${name})`);
    } finally {
      // Closing the session releases the lock in any case.
      await conn.end().catch(() => conn.destroy());
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async withConnection<T>(use: (conn: PoolConnection) => Promise<T>): Promise<T> {
    let conn: PoolConnection;
    try {
      conn = await this.pool.getConnection();
    } catch (err) {
      throw toDownstreamError(err, `connecting to database ${this.database}`);
    }
    let reusable = true;
    try {
      if (!this.prepared.has(conn.connection)) {
        for (const sql of SESSION_SETUP) await executorOn(conn).exec(sql);
        this.prepared.add(conn.connection);
      }
      return await use(conn);
    } catch (err) {
      const cause = err instanceof DownstreamError ? err.cause : err;
      // A broken connection (or one whose ROLLBACK failed) must not serve the next caller.
      if (isFatalMysqlError(cause) || isFatalMysqlError(err)) reusable = false;
      throw err;
    } finally {
      if (this.broken.has(conn.connection)) reusable = false;
      if (reusable) conn.release();
      else conn.destroy();
    }
  }
}

/**
 * The driver's core connection under a pooled promise connection. Its callback API skips the
 * promise wrapper's stack capture on every statement (a window runs a few dozen).
 */
interface CoreConnection {
  query(sql: string, values: unknown[], callback: (err: Error | null, result: unknown) => void): void;
  execute(sql: string, values: unknown[], callback: (err: Error | null, result: unknown) => void): void;
}

function run(call: (callback: (err: Error | null, result: unknown) => void) => void): Promise<unknown> {
  return new Promise((resolve, reject) => call((err, result) => (err ? reject(err) : resolve(result))));
}

/** Statements on one connection, errors mapped into weir's hierarchy. */
function executorOn(conn: PoolConnection): SqlExecutor {
  const core = conn.connection as unknown as CoreConnection;
  return {
    async query<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
      try {
        return (await run((done) => core.query(sql, [...params], done))) as Row[];
      } catch (err) {
        throw toDownstreamError(err, sql);
      }
    },
    async exec(sql: string, params: readonly SqlValue[] = [], options?: ExecOptions): Promise<{ changes: number }> {
      try {
        // Prepared: the values travel in binary beside the statement (no escaping, and the server
        // parses the statement once per connection); the driver keeps it prepared, by its text.
        const result = (await run((done) =>
          options?.prepared && params.length > 0 ? core.execute(sql, [...params], done) : core.query(sql, [...params], done),
        )) as ResultSetHeader;
        return { changes: result.affectedRows ?? 0 };
      } catch (err) {
        throw toDownstreamError(err, sql);
      }
    },
  };
}
