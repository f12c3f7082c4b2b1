import { describe, expect, it } from 'vitest';
import { DownstreamError, InvalidInputError } from '../../errors.js';
import { isRetriableMysqlError, toDownstreamError } from './mysql-errors.js';

/** The shape mysql2 gives a server error. */
const serverError = (errno: number, code: string, message = code) => Object.assign(new Error(message), { errno, code, sqlState: 'HY000' });
/** The shape of a socket error (no sqlState, a negative errno). */
const socketError = (code: string) => Object.assign(new Error(code), { code, errno: -111 });

describe('isRetriableMysqlError', () => {
  it('retries deadlocks, lock wait timeouts, full or restarting servers and broken connections', () => {
    expect(isRetriableMysqlError(serverError(1213, 'ER_LOCK_DEADLOCK'))).toBe(true);
    expect(isRetriableMysqlError(serverError(1205, 'ER_LOCK_WAIT_TIMEOUT'))).toBe(true);
    expect(isRetriableMysqlError(serverError(1040, 'ER_CON_COUNT_ERROR'))).toBe(true);
    expect(isRetriableMysqlError(serverError(1927, undefined as unknown as string))).toBe(true);
    expect(isRetriableMysqlError(socketError('ECONNREFUSED'))).toBe(true);
    expect(isRetriableMysqlError(Object.assign(new Error('lost'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))).toBe(true);
    // What mysql2 answers once it has seen the socket close: fatal, with neither code nor errno.
    expect(isRetriableMysqlError(Object.assign(new Error("Can't add new command when connection is in closed state"), { fatal: true }))).toBe(true);
  });

  it('does not retry SQL errors, too long values, access or database errors', () => {
    expect(isRetriableMysqlError(serverError(1064, 'ER_PARSE_ERROR'))).toBe(false);
    expect(isRetriableMysqlError(serverError(1406, 'ER_DATA_TOO_LONG'))).toBe(false);
    expect(isRetriableMysqlError(serverError(1045, 'ER_ACCESS_DENIED_ERROR'))).toBe(false);
    expect(isRetriableMysqlError(serverError(1049, 'ER_BAD_DB_ERROR'))).toBe(false);
    expect(isRetriableMysqlError(new Error('Pool is closed.'))).toBe(false);
    expect(isRetriableMysqlError(Object.assign(serverError(1045, 'ER_ACCESS_DENIED_ERROR'), { fatal: true }))).toBe(false);
    expect(isRetriableMysqlError(null)).toBe(false);
  });
});

describe('toDownstreamError', () => {
  it('wraps driver errors with the statement, shortened, and keeps the cause', () => {
    const cause = serverError(1213, 'ER_LOCK_DEADLOCK', 'Deadlock found when trying to get lock');
    const error = toDownstreamError(cause, `INSERT INTO t VALUES ${'(?), '.repeat(100)}(?)`);
    expect(error).toBeInstanceOf(DownstreamError);
    expect(error.retriable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.message).toMatch(/^MySQL: Deadlock found when trying to get lock \(INSERT INTO t VALUES \(\?\), .*…\)$/);
    expect(error.message.length).toBeLessThan(300);
    expect(toDownstreamError(serverError(1064, 'ER_PARSE_ERROR'), 'SELECT').retriable).toBe(false);
  });

  it('passes weir errors through unchanged', () => {
    const own = new InvalidInputError('bad');
    expect(toDownstreamError(own, 'SELECT 1')).toBe(own);
  });
});
