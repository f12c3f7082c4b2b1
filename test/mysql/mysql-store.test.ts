import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mysqlDialect } from '../../src/clients/mysql/mysql-dialect.js';
import { openMysqlStore, type MysqlStore } from '../../src/clients/mysql/mysql-store.js';
import { DownstreamError } from '../../src/errors.js';
import { adminConnection, databaseUrl, dropTestDatabases, openTestStore, testDatabaseName } from './support.js';

const stores: MysqlStore[] = [];
async function open(poolSize = 2): Promise<MysqlStore> {
  const store = await openTestStore({ poolSize });
  stores.push(store);
  return store;
}
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
});
afterAll(dropTestDatabases);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => err as DownstreamError);

describe('MysqlStore values', () => {
  it('round-trips unsigned 64-bit hashes and returns BIGINT columns as exact bigints', async () => {
    const store = await open();
    await store.exec('CREATE TABLE h (hash BIGINT UNSIGNED NOT NULL PRIMARY KEY, n BIGINT NOT NULL)');
    const hashes = [0n, 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n];
    for (const hash of hashes) await store.exec('INSERT INTO h VALUES (?, ?)', [mysqlDialect.encodeHash(hash), -(2n ** 62n) - 3n]);
    const rows = await store.query<{ hash: bigint; n: bigint }>('SELECT hash, n FROM h WHERE hash IN (?, ?) ORDER BY hash', [1n << 63n, (1n << 64n) - 1n]);
    expect(rows).toEqual([
      { hash: 1n << 63n, n: -(2n ** 62n) - 3n },
      { hash: (1n << 64n) - 1n, n: -(2n ** 62n) - 3n },
    ]);
    expect(await store.query('SELECT COUNT(*) AS n FROM h')).toEqual([{ n: 5n }]);
  });

  it('keeps binary text exact: strings back, byte order, trailing spaces and case significant', async () => {
    const store = await open();
    await store.exec('CREATE TABLE t (k VARBINARY(64) NOT NULL PRIMARY KEY, body MEDIUMBLOB NOT NULL)');
    const keys = ['a', 'a ', 'A', 'a\t', '\uffff', '😀', 'ünï', ''];
    for (const k of keys) await store.exec('INSERT INTO t VALUES (?, ?)', [k, `${k}!`]);
    const rows = await store.query<{ k: string; body: string }>('SELECT k, body FROM t ORDER BY k');
    expect(rows.map((r) => r.k)).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    expect(rows.every((r) => typeof r.body === 'string' && r.body === `${r.k}!`)).toBe(true);
    expect(await store.query('SELECT k FROM t WHERE k = ?', ['a '])).toEqual([{ k: 'a ' }]);
  });

  it('rejects a too long value (strict mode) instead of truncating it, non-retriably', async () => {
    const store = await open();
    await store.exec('CREATE TABLE short (v VARBINARY(4) NOT NULL)');
    const error = await failure(store.exec('INSERT INTO short VALUES (?)', ['abcde']));
    expect(error).toBeInstanceOf(DownstreamError);
    expect(error?.retriable).toBe(false);
    expect(await store.query('SELECT * FROM short')).toEqual([]);
  });

  it('reports SQL errors as non-retriable DownstreamErrors naming the statement', async () => {
    const store = await open();
    const error = await failure(store.query('SELECT * FROM missing_table'));
    expect(error).toBeInstanceOf(DownstreamError);
    expect(error?.retriable).toBe(false);
    expect(error?.message).toMatch(/missing_table' doesn't exist \(SELECT \* FROM missing_table\)/);
  });
});

describe('MysqlStore sessions', () => {
  it('sets strict mode, READ COMMITTED and a longer sort length on every pooled connection', async () => {
    const store = await open(3);
    const gate = deferred();
    const sessions = Array.from({ length: 3 }, () =>
      store.transaction(async (tx) => {
        const rows = await tx.query<Record<string, unknown>>(
          'SELECT CONNECTION_ID() AS id, @@session.sql_mode AS mode, @@session.tx_isolation AS isolation, @@session.max_sort_length AS sort_length',
        );
        await gate.promise; // hold the connection so the three use three connections
        return rows[0];
      }),
    );
    setTimeout(gate.resolve, 100);
    const seen = await Promise.all(sessions);
    expect(new Set(seen.map((s) => s.id)).size).toBe(3);
    for (const session of seen) {
      expect(session).toMatchObject({ mode: 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', isolation: 'READ-COMMITTED' });
      expect(Number(session.sort_length)).toBeGreaterThanOrEqual(32_768);
    }
  });
});

describe('MysqlStore transactions', () => {
  it('commits when the work resolves and rolls back when it throws', async () => {
    const store = await open();
    await store.exec('CREATE TABLE t (x INT NOT NULL)');
    await store.transaction(async (tx) => {
      await tx.exec('INSERT INTO t VALUES (1)');
    });
    await expect(
      store.transaction(async (tx) => {
        await tx.exec('INSERT INTO t VALUES (2)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.query('SELECT x FROM t')).toEqual([{ x: 1 }]);
  });

  it('reports a deadlock as a retriable DownstreamError and rolls the victim back', async () => {
    const store = await open(2);
    await store.exec('CREATE TABLE d (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)');
    await store.exec('INSERT INTO d VALUES (1, 0), (2, 0)');
    const bothHoldOne = { count: 0, gate: deferred() };
    const crossing = (first: number, second: number) =>
      store.transaction(async (tx) => {
        await tx.exec('UPDATE d SET v = v + 1 WHERE id = ?', [first]);
        if (++bothHoldOne.count === 2) bothHoldOne.gate.resolve();
        await bothHoldOne.gate.promise;
        await tx.exec('UPDATE d SET v = v + 1 WHERE id = ?', [second]);
      });
    const results = await Promise.allSettled([crossing(1, 2), crossing(2, 1)]);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0].reason).toBeInstanceOf(DownstreamError);
    expect(rejected[0].reason).toMatchObject({ retriable: true, message: expect.stringMatching(/Deadlock/) });
    // The survivor's two increments, none of the victim's.
    expect(await store.query('SELECT SUM(v) AS total FROM d')).toEqual([{ total: '2' }]);
  });

  it('reports a lock wait timeout as retriable', async () => {
    const store = await open(2);
    await store.exec('CREATE TABLE w (id INT NOT NULL PRIMARY KEY)');
    await store.exec('INSERT INTO w VALUES (1)');
    const gate = deferred();
    const holding = store.transaction(async (tx) => {
      await tx.exec('SELECT id FROM w WHERE id = 1 FOR UPDATE');
      await gate.promise;
    });
    const waiting = failure(
      store.transaction(async (tx) => {
        await tx.exec('SET SESSION innodb_lock_wait_timeout = 1');
        await tx.exec('UPDATE w SET id = 1 WHERE id = 1');
      }),
    );
    const error = await waiting;
    gate.resolve();
    await holding;
    expect(error).toMatchObject({ retriable: true, message: expect.stringMatching(/Lock wait timeout/) });
  });

  // Right after KILL the next statement races the driver noticing the closed socket: it fails with
  // the server's "connection killed", a lost connection, or "closed state". Both orders are run.
  for (const pause of [0, 300]) {
    it(`reports a connection killed mid-transaction as retriable and replaces it in the pool (next statement after ${pause} ms)`, async () => {
      const store = await open(1);
      await store.exec('CREATE TABLE k (x INT NOT NULL)');
      const admin = await adminConnection();
      const error = await failure(
        store.transaction(async (tx) => {
          await tx.exec('INSERT INTO k VALUES (1)');
          const [{ id }] = await tx.query<{ id: bigint }>('SELECT CONNECTION_ID() AS id');
          await admin.query('KILL ?', [Number(id)]);
          if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
          await tx.exec('INSERT INTO k VALUES (2)');
        }),
      );
      await admin.end();
      expect(error).toBeInstanceOf(DownstreamError);
      expect(error?.retriable).toBe(true);
      // The only pooled connection died; the store opens a fresh one (session set up again).
      expect(await store.query('SELECT COUNT(*) AS n, @@session.tx_isolation AS isolation FROM k')).toEqual([{ n: 0n, isolation: 'READ-COMMITTED' }]);
    });
  }
});

describe('mysqlDialect against the server', () => {
  it('merges with min, max and sum, guards merges, and counts only inserted rows for insert-only upserts', async () => {
    const store = await open();
    await store.exec('CREATE TABLE m (k VARBINARY(8) NOT NULL PRIMARY KEY, owner VARBINARY(8) NOT NULL, lo BIGINT NOT NULL, hi BIGINT NOT NULL, n BIGINT NOT NULL)');
    const merge = { table: 'm', columns: ['k', 'owner', 'lo', 'hi', 'n'], key: ['k'], merge: { lo: 'min', hi: 'max', n: 'sum' } } as const;
    const guarded = { ...merge, mergeOnlyIfEqual: 'owner' } as const;
    const insertOnly = { table: 'm', columns: merge.columns, key: ['k'] } as const;
    await store.exec(mysqlDialect.upsertSql(merge, 2), ['a', 'x', 5, 5, 1, 'b', 'x', 1, 1, 1]);
    await store.exec(mysqlDialect.upsertSql(merge, 1), ['a', 'y', 3, 9, 2]);
    await store.exec(mysqlDialect.upsertSql(guarded, 1), ['b', 'intruder', 0, 100, 50]);
    expect(await store.exec(mysqlDialect.upsertSql(insertOnly, 3), ['a', 'z', 0, 0, 0, 'c', 'z', 7, 7, 7, 'b', 'z', 0, 0, 0])).toEqual({ changes: 1 });
    expect(await store.query('SELECT * FROM m ORDER BY k')).toEqual([
      { k: 'a', owner: 'x', lo: 3n, hi: 9n, n: 3n },
      { k: 'b', owner: 'x', lo: 1n, hi: 1n, n: 1n },
      { k: 'c', owner: 'z', lo: 7n, hi: 7n, n: 7n },
    ]);
  });

  it('looks hashes up by primary key even when the list straddles 2^63', async () => {
    const store = await open();
    await store.exec('CREATE TABLE s (hash BIGINT UNSIGNED NOT NULL PRIMARY KEY, k MEDIUMBLOB NOT NULL)');
    const hashes = Array.from({ length: 2_000 }, (_, i) => BigInt(i) * 9_223_372_036_854_775n);
    await store.exec(`INSERT INTO s VALUES ${hashes.map(() => '(?, ?)').join(', ')}`, hashes.flatMap((h) => [h, 'k']));
    await store.exec('ANALYZE TABLE s');
    const wanted = [hashes[3], hashes[1_500], hashes[1_999], 5n];
    const list = mysqlDialect.hashInList!('hash', wanted);
    const [plan] = await store.query<{ type: string; rows: bigint }>(`EXPLAIN SELECT hash FROM s WHERE ${list.sql}`, list.params);
    expect(plan).toMatchObject({ type: 'range' });
    const found = await store.query<{ hash: bigint }>(`SELECT hash FROM s WHERE ${list.sql} ORDER BY hash`, list.params);
    expect(found.map((r) => r.hash)).toEqual([hashes[3], hashes[1_500], hashes[1_999]]);
  });

  it('matches long value lists', async () => {
    const store = await open();
    await store.exec('CREATE TABLE v (s VARBINARY(16) NOT NULL PRIMARY KEY)');
    const values = Array.from({ length: 3_000 }, (_, i) => `v${i}`);
    await store.exec(`INSERT INTO v VALUES ${values.map(() => '(?)').join(', ')}`, values);
    const list = mysqlDialect.inList('s', [...values.filter((_, i) => i % 2 === 0), "it's", 'nope\\']);
    expect(await store.query(`SELECT COUNT(*) AS n FROM v WHERE ${list.sql}`, list.params)).toEqual([{ n: 1_500n }]);
  });
});

describe('openMysqlStore', () => {
  it('fails non-retriably for a missing database unless asked to create it', async () => {
    const database = testDatabaseName();
    const error = await failure(openMysqlStore({ url: databaseUrl(database) }));
    expect(error).toBeInstanceOf(DownstreamError);
    expect(error?.retriable).toBe(false);
    expect(error?.message).toMatch(/Unknown database/);
  });

  it('fails retriably when the server is unreachable', async () => {
    const error = await failure(openMysqlStore({ host: '127.0.0.1', port: 1, database: 'weir', connectTimeoutMs: 2_000 }));
    expect(error).toBeInstanceOf(DownstreamError);
    expect(error?.retriable).toBe(true);
  });
});

describe('MysqlStore.withNamedLock', () => {
  it('lets one holder in at a time and times out retriably', async () => {
    const store = await open();
    const order: string[] = [];
    const gate = deferred();
    const first = store.withNamedLock('weir_test_lock', 5, async () => {
      order.push('first in');
      await gate.promise;
      order.push('first out');
    });
    await new Promise((r) => setTimeout(r, 100));
    const timedOut = await failure(store.withNamedLock('weir_test_lock', 1, async () => order.push('never')));
    const second = store.withNamedLock('weir_test_lock', 5, async () => order.push('second in'));
    gate.resolve();
    await Promise.all([first, second]);
    expect(timedOut).toMatchObject({ retriable: true, message: expect.stringMatching(/still held/) });
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });
});
