import { DownstreamError, WeirError } from '../../errors.js';

/**
 * Errors after which running the same work again may succeed: InnoDB chose this transaction as a
 * deadlock victim or it waited too long for a row lock, the server is out of connections or
 * restarting, or the connection broke. Everything else (SQL errors, a too long value, access
 * denied, an unknown database) fails the same way every time.
 */
const RETRIABLE_SERVER_ERRORS = new Set([
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1040, // ER_CON_COUNT_ERROR
  1203, // ER_TOO_MANY_USER_CONNECTIONS
  1053, // ER_SERVER_SHUTDOWN
  1317, // ER_QUERY_INTERRUPTED
  1927, // ER_CONNECTION_KILLED (MariaDB; mysql2 has no name for it)
  4031, // ER_CLIENT_INTERACTION_TIMEOUT
]);

/** Client-side failures of the socket or the protocol. */
const RETRIABLE_CLIENT_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * mysql2 errors carry the server's error number (`errno` with `sqlState`), or a socket error
 * `code`. A client-side error marked `fatal` without either ("Can't add new command when
 * connection is in closed state", once the driver has seen the socket close) means the
 * connection is gone: the work may succeed on a fresh one.
 */
export function isRetriableMysqlError(err: unknown): boolean {
  const { code, errno, sqlState } = (err ?? {}) as { code?: unknown; errno?: unknown; sqlState?: unknown };
  if (typeof sqlState === 'string' && typeof errno === 'number') return RETRIABLE_SERVER_ERRORS.has(errno);
  if (typeof code === 'string' && RETRIABLE_CLIENT_CODES.has(code)) return true;
  return code === undefined && isFatalMysqlError(err);
}

/**
 * Connection-level failures: the connection must not go back to the pool. mysql2 marks them
 * `fatal`; a deadlock or a SQL error leaves the connection usable.
 */
export function isFatalMysqlError(err: unknown): boolean {
  return (err as { fatal?: unknown } | null)?.fatal === true;
}

/** Wraps a driver error in weir's hierarchy, naming the statement (shortened). Weir errors pass through. */
export function toDownstreamError(err: unknown, context: string): WeirError {
  if (err instanceof WeirError) return err;
  const shown = context.length > 200 ? `${context.slice(0, 200)}…` : context;
  const message = err instanceof Error ? err.message : String(err);
  return new DownstreamError(`MySQL: ${message} (${shown})`, { cause: err, retriable: isRetriableMysqlError(err) });
}
