import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownstreamError } from '../../errors.js';
import type { SqlStore } from '../../index/sql-store.js';
import { sqliteDialect } from './sqlite-dialect.js';
import { openSqliteStore } from './sqlite-store.js';

let dir: string;
const stores: SqlStore[] = [];
const open = (path: string, busyTimeoutMs?: number) => {
  const store = openSqliteStore({ path, busyTimeoutMs });
  stores.push(store);
  return store;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sqlite-store-'));
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('openSqliteStore', () => {
  it('creates missing parent directories and the file, in WAL mode', async () => {
    const path = join(dir, 'nested', 'deeper', 'index.sqlite');
    const store = open(path);
    expect(existsSync(path)).toBe(true);
    expect(await store.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await store.query('PRAGMA synchronous')).toEqual([{ synchronous: 1n }]);
    expect(await store.query('PRAGMA cache_size')).toEqual([{ cache_size: -32n * 1024n }]);
  });

  it('round-trips unsigned 64-bit hashes through signed SQLite integers', async () => {
    const store = open(':memory:');
    await store.exec('CREATE TABLE h (hash INTEGER NOT NULL PRIMARY KEY) STRICT');
    const hashes = [0n, 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n];
    for (const hash of hashes) await store.exec('INSERT INTO h VALUES (?)', [store.dialect.encodeHash(hash)]);
    const rows = await store.query<{ hash: bigint }>('SELECT hash FROM h');
    expect(rows.map((r) => store.dialect.decodeHash(r.hash)).sort()).toEqual([...hashes].sort());
    expect(store.dialect.encodeHash((1n << 64n) - 1n)).toBe(-1n);
  });
});

describe('SqliteStore transactions', () => {
  it('commits when the work resolves and rolls back when it throws', async () => {
    const store = open(':memory:');
    await store.exec('CREATE TABLE t (x INTEGER NOT NULL) STRICT');
    await store.transaction(async (tx) => {
      await tx.exec('INSERT INTO t VALUES (1)');
    });
    await expect(
      store.transaction(async (tx) => {
        await tx.exec('INSERT INTO t VALUES (2)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.query('SELECT x FROM t')).toEqual([{ x: 1n }]);
  });

  it('queues other operations until a transaction that awaits has committed', async () => {
    const store = open(':memory:');
    await store.exec('CREATE TABLE t (x INTEGER NOT NULL) STRICT');
    const gate = deferred();
    const first = store.transaction(async (tx) => {
      await tx.exec('INSERT INTO t VALUES (1)');
      await gate.promise;
      await tx.exec('INSERT INTO t VALUES (2)');
    });
    const second = store.transaction(async (tx) => {
      const [row] = await tx.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM t');
      await tx.exec('INSERT INTO t VALUES (?)', [row.n + 10n]);
    });
    const read = store.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM t');
    gate.resolve();
    await Promise.all([first, second]);
    // In submission order: the read sees both transactions, never the first one half done.
    expect(await read).toEqual([{ n: 3n }]);
    expect(await store.query('SELECT x FROM t ORDER BY x')).toEqual([{ x: 1n }, { x: 2n }, { x: 12n }]);
  });

  it('reports a write lock held by another connection as a retriable DownstreamError', async () => {
    const path = join(dir, 'busy.sqlite');
    const holder = open(path);
    await holder.exec('CREATE TABLE t (x INTEGER NOT NULL) STRICT');
    const waiter = open(path, 0);
    const gate = deferred();
    const holding = holder.transaction(async (tx) => {
      await tx.exec('INSERT INTO t VALUES (1)');
      await gate.promise;
    });
    const error = await waiter.exec('INSERT INTO t VALUES (2)').catch((err: unknown) => err);
    gate.resolve();
    await holding;
    expect(error).toBeInstanceOf(DownstreamError);
    expect((error as DownstreamError).retriable).toBe(true);
  });

  it('reports SQL errors as non-retriable DownstreamErrors naming the statement', async () => {
    const store = open(':memory:');
    const error = await store.query('SELECT * FROM missing_table').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DownstreamError);
    expect((error as DownstreamError).retriable).toBe(false);
    expect((error as Error).message).toMatch(/no such table: missing_table \(SELECT \* FROM missing_table\)/);
  });
});

describe('sqliteDialect', () => {
  it('renders upserts that merge with min, max and sum', async () => {
    const store = open(':memory:');
    await store.exec('CREATE TABLE m (k TEXT NOT NULL PRIMARY KEY, lo INTEGER NOT NULL, hi INTEGER NOT NULL, n INTEGER NOT NULL, note TEXT NOT NULL) STRICT');
    const spec = { table: 'm', columns: ['k', 'lo', 'hi', 'n', 'note'], key: ['k'], merge: { lo: 'min', hi: 'max', n: 'sum' } } as const;
    await store.exec(sqliteDialect.upsertSql(spec, 2), ['a', 5, 5, 1, 'first', 'b', 1, 1, 1, 'first']);
    await store.exec(sqliteDialect.upsertSql(spec, 1), ['a', 3, 9, 2, 'second']);
    expect(await store.query('SELECT * FROM m ORDER BY k')).toEqual([
      { k: 'a', lo: 3n, hi: 9n, n: 3n, note: 'first' },
      { k: 'b', lo: 1n, hi: 1n, n: 1n, note: 'first' },
    ]);
  });

  it('skips the merge when the guard column differs, and inserts only when absent without merges', async () => {
    const store = open(':memory:');
    await store.exec('CREATE TABLE g (k INTEGER NOT NULL PRIMARY KEY, owner TEXT NOT NULL, hi INTEGER NOT NULL) STRICT');
    const guarded = { table: 'g', columns: ['k', 'owner', 'hi'], key: ['k'], merge: { hi: 'max' }, mergeOnlyIfEqual: 'owner' } as const;
    await store.exec(sqliteDialect.upsertSql(guarded, 1), [1, 'alice', 1]);
    await store.exec(sqliteDialect.upsertSql(guarded, 1), [1, 'bob', 100]);
    await store.exec(sqliteDialect.upsertSql(guarded, 1), [1, 'alice', 7]);
    const insertOnly = { table: 'g', columns: ['k', 'owner', 'hi'], key: ['k'] } as const;
    await store.exec(sqliteDialect.upsertSql(insertOnly, 2), [1, 'carol', 500, 2, 'carol', 2]);
    expect(await store.query('SELECT * FROM g ORDER BY k')).toEqual([
      { k: 1n, owner: 'alice', hi: 7n },
      { k: 2n, owner: 'carol', hi: 2n },
    ]);
  });

  it('binds short lists as parameters and long lists as one JSON parameter', async () => {
    const store = open(':memory:');
    await store.exec('CREATE TABLE v (s TEXT NOT NULL) STRICT');
    const values = Array.from({ length: 300 }, (_, i) => `v${i}`);
    for (const s of values) await store.exec('INSERT INTO v VALUES (?)', [s]);
    const short = sqliteDialect.inList('s', ['v1', 'v2', 'nope']);
    expect(short.params).toEqual(['v1', 'v2', 'nope']);
    const long = sqliteDialect.inList('s', values.filter((_, i) => i % 2 === 0));
    expect(long.params).toHaveLength(1);
    const count = async ({ sql, params }: { sql: string; params: unknown[] }) =>
      (await store.query<{ n: bigint }>(`SELECT COUNT(*) AS n FROM v WHERE ${sql}`, params as string[]))[0].n;
    expect(await count(short)).toBe(2n);
    expect(await count(long)).toBe(150n);
    expect(await count(sqliteDialect.inList('s', []))).toBe(0n);
  });
});
