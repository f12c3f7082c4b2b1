import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../clients/sqlite/sqlite-store.js';
import { ConfigError } from '../errors.js';
import { applyMigrations, INDEX_MIGRATIONS, type Migration } from './schema.js';
import type { SqlStore } from './sql-store.js';

let dir: string;
let path: string;
const stores: SqlStore[] = [];
const open = () => {
  const store = openSqliteStore({ path });
  stores.push(store);
  return store;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-schema-'));
  path = join(dir, 'index.sqlite');
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const tables = async (store: SqlStore) =>
  (await store.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => r.name);

describe('applyMigrations', () => {
  it('creates the index schema and records each version once', async () => {
    const store = open();
    expect(await applyMigrations(store, INDEX_MIGRATIONS, () => 1234)).toEqual([1]);
    expect(await tables(store)).toEqual(['label_names', 'label_postings', 'label_values', 'metric_metadata', 'schema_migrations', 'series']);
    expect(await store.query('SELECT version, applied_at FROM schema_migrations')).toEqual([{ version: 1n, applied_at: 1234n }]);
  });

  it('applies nothing when the database is current, also from a second connection', async () => {
    await applyMigrations(open());
    expect(await applyMigrations(open())).toEqual([]);
    expect(await open().query('SELECT COUNT(*) AS n FROM schema_migrations')).toEqual([{ n: 1n }]);
  });

  it('applies only the migrations a database lacks, in order', async () => {
    const first: Migration = { version: 1, name: 'a', statements: { sqlite: ['CREATE TABLE a (x INTEGER)'] } };
    const second: Migration = { version: 2, name: 'b', statements: { sqlite: ['ALTER TABLE a ADD COLUMN y INTEGER', 'CREATE TABLE b (z INTEGER)'] } };
    const store = open();
    expect(await applyMigrations(store, [first])).toEqual([1]);
    expect(await applyMigrations(store, [first, second])).toEqual([2]);
    expect(await store.query('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual([
      { version: 1n, name: 'a' },
      { version: 2n, name: 'b' },
    ]);
    expect(await tables(store)).toContain('b');
  });

  it('leaves no trace of a migration that fails halfway', async () => {
    const broken: Migration = { version: 1, name: 'broken', statements: { sqlite: ['CREATE TABLE ok (x INTEGER)', 'CREATE TABLE ok (x INTEGER)'] } };
    const store = open();
    await expect(applyMigrations(store, [broken])).rejects.toThrow(/already exists/);
    expect(await tables(store)).toEqual(['schema_migrations']);
    expect(await store.query('SELECT * FROM schema_migrations')).toEqual([]);
  });

  it('refuses a database with a newer schema than this weir knows', async () => {
    const store = open();
    await applyMigrations(store, [
      ...INDEX_MIGRATIONS,
      { version: 99, name: 'from the future', statements: { sqlite: ['CREATE TABLE future (x INTEGER)'] } },
    ]);
    await expect(applyMigrations(store)).rejects.toThrow(ConfigError);
    await expect(applyMigrations(store)).rejects.toThrow(/schema version 99, newer than this weir knows \(1\)/);
  });

  it('refuses a migration without statements for the dialect', async () => {
    const mysqlOnly: Migration = { version: 1, name: 'mysql only', statements: { mysql: ['SELECT 1'] } };
    await expect(applyMigrations(open(), [mysqlOnly])).rejects.toThrow(/has no statements for sqlite/);
  });

  it('refuses migrations out of order', async () => {
    const a: Migration = { version: 2, name: 'a', statements: { sqlite: [] } };
    const b: Migration = { version: 1, name: 'b', statements: { sqlite: [] } };
    await expect(applyMigrations(open(), [a, b])).rejects.toThrow(/increasing integer versions/);
  });
});
