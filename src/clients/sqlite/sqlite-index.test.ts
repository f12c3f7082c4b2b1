import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalSeries, seriesBatch } from '../../index/fixtures.test-support.js';
import { parseSeriesSelector } from '../../index/selector.js';
import { openSqliteIndex } from './sqlite-index.js';
import { openSqliteStore } from './sqlite-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sqlite-index-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

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

describe('openSqliteIndex', () => {
  it('creates the file on first use, migrates once and keeps the data across reopening', async () => {
    const path = join(dir, 'data', 'index.sqlite');
    const first = capturingLogger();
    const index = await openSqliteIndex({ path, logger: first.logger });
    expect(existsSync(path)).toBe(true);
    await index.writeBatch(seriesBatch([canonicalSeries({ __name__: 'up', job: 'a' }, { first: 1, last: 2 })]));
    await index.close();

    const second = capturingLogger();
    const reopened = await openSqliteIndex({ path, logger: second.logger });
    expect(await reopened.series([parseSeriesSelector('up')])).toEqual([{ __name__: 'up', job: 'a' }]);
    expect(await reopened.stats()).toEqual({ series: 1, hashCollisions: 0 });
    await reopened.close();

    expect(first.lines.filter((l) => l.msg === 'series index schema migrated')).toHaveLength(1);
    expect(second.lines.filter((l) => l.msg === 'series index schema migrated')).toHaveLength(0);
    const store = openSqliteStore({ path });
    expect(await store.query('SELECT version FROM schema_migrations')).toEqual([{ version: 1n }]);
    await store.close();
  });

  it('logs a hash collision with both keys', async () => {
    const { logger, lines } = capturingLogger();
    const index = await openSqliteIndex({ path: ':memory:', logger });
    const kept = canonicalSeries({ __name__: 'a' }, { first: 1, last: 1, hash: 1n << 63n });
    const dropped = canonicalSeries({ __name__: 'b' }, { first: 1, last: 1, hash: 1n << 63n });
    await index.writeBatch(seriesBatch([kept, dropped]));
    await index.close();
    expect(lines.filter((l) => l.level === 40)).toEqual([
      expect.objectContaining({ hash: String(1n << 63n), keptKey: kept.key, droppedKey: dropped.key }),
    ]);
  });
});
