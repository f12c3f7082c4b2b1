import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { migrationLockName, openMysqlIndex, type MysqlSeriesIndex } from '../../src/clients/mysql/mysql-index.js';
import { openMysqlStore } from '../../src/clients/mysql/mysql-store.js';
import { canonicalSeries, seriesBatch } from '../../src/index/fixtures.test-support.js';
import { INDEX_MIGRATIONS } from '../../src/index/schema.js';
import { parseSeriesSelector } from '../../src/index/selector.js';
import { adminConnection, databaseUrl, dropDatabase, testDatabaseName } from './support.js';

/** A pino logger whose lines land in an array. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const migrated = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'series index schema migrated');

let database: string;
const indexes: MysqlSeriesIndex[] = [];
async function open(options: { logger?: pino.Logger; createDatabase?: boolean } = {}): Promise<MysqlSeriesIndex> {
  const index = await openMysqlIndex({ url: databaseUrl(database), createDatabase: true, poolSize: 2, ...options });
  indexes.push(index);
  return index;
}
afterEach(async () => {
  for (const index of indexes.splice(0)) await index.close().catch(() => undefined);
  await dropDatabase(database);
});
afterAll(async () => {
  if (database) await dropDatabase(database);
});

async function tables(): Promise<string[]> {
  const admin = await adminConnection(database);
  try {
    const [rows] = await admin.query('SHOW TABLES');
    return (rows as Record<string, string>[]).map((r) => Object.values(r)[0]).sort();
  } finally {
    await admin.end();
  }
}

describe('openMysqlIndex', () => {
  it('creates the database, migrates once and keeps the data across reopening', async () => {
    database = testDatabaseName();
    const first = capturingLogger();
    const index = await open({ logger: first.logger });
    await index.writeBatch(seriesBatch([canonicalSeries({ __name__: 'up', job: 'a' }, { first: 1, last: 2, hash: (1n << 64n) - 1n })]));
    await index.close();

    const second = capturingLogger();
    const reopened = await open({ logger: second.logger, createDatabase: false });
    expect(await reopened.series([parseSeriesSelector('up')])).toEqual([{ __name__: 'up', job: 'a' }]);
    expect(await reopened.stats()).toEqual({ series: 1, hashCollisions: 0 });
    await reopened.migrate();

    expect(migrated(first.lines)).toEqual([expect.objectContaining({ versions: [1], dialect: 'mysql' })]);
    expect(migrated(second.lines)).toEqual([]);
    expect(await tables()).toEqual(['label_names', 'label_postings', 'label_values', 'metric_metadata', 'schema_migrations', 'series']);
  });

  it('lets processes that start together apply each migration once', async () => {
    database = testDatabaseName();
    const captures = Array.from({ length: 4 }, () => capturingLogger());
    const opened = await Promise.all(captures.map(({ logger }) => open({ logger })));
    await Promise.all(opened.map((index, i) => index.writeBatch(seriesBatch([canonicalSeries({ __name__: 'm', i: String(i) }, { first: i, last: i })]))));
    expect(captures.flatMap(({ lines }) => migrated(lines))).toHaveLength(1);
    expect(await opened[0].stats()).toMatchObject({ series: 4 });
    const admin = await adminConnection(database);
    const [rows] = await admin.query('SELECT version FROM schema_migrations');
    await admin.end();
    expect(rows).toEqual([{ version: 1 }]);
  });

  it('finishes a migration that failed halfway (DDL is not rolled back) and records it only then', async () => {
    database = testDatabaseName();
    // What a crash after the first two statements of version 1 leaves behind.
    const store = await openMysqlStore({ url: databaseUrl(database), createDatabase: true });
    for (const sql of INDEX_MIGRATIONS[0].statements.mysql!.slice(0, 2)) await store.exec(sql);
    await store.close();
    expect(await tables()).toEqual(['label_postings', 'series']);

    const { logger, lines } = capturingLogger();
    const index = await open({ logger });
    expect(migrated(lines)).toHaveLength(1);
    expect(await tables()).toEqual(['label_names', 'label_postings', 'label_values', 'metric_metadata', 'schema_migrations', 'series']);
    await index.writeBatch(seriesBatch([canonicalSeries({ __name__: 'up' }, { first: 1, last: 1 })]));
    expect(await index.labelNames()).toEqual(['__name__']);
  });

  it('waits for another migrating process rather than migrating alongside it', async () => {
    database = testDatabaseName();
    const holder = await openMysqlStore({ url: databaseUrl(database), createDatabase: true });
    let released = false;
    let openedWhileHeld = false;
    const holding = holder.withNamedLock(migrationLockName(holder), 10, async () => {
      await new Promise((r) => setTimeout(r, 500));
      released = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    const index = await open();
    openedWhileHeld = !released;
    await holding;
    await holder.close();
    expect(openedWhileHeld).toBe(false);
    expect(await index.stats()).toMatchObject({ series: 0 });
  });

  it('keeps the migration lock name within 64 characters, one per database', () => {
    expect(migrationLockName({ database: 'weir' })).toBe('weir_migrate:weir');
    const long = migrationLockName({ database: 'x'.repeat(64) });
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).not.toBe(migrationLockName({ database: `${'x'.repeat(63)}y` }));
    database = testDatabaseName(); // nothing created; afterEach drops nothing
  });
});
