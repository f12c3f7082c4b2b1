import { ConfigError } from '../errors.js';
import type { DialectName, SqlStore } from './sql-store.js';

/**
 * The index schema as an ordered list of migrations, applied at open and recorded in
 * `schema_migrations`. A migration is never edited once released: changes are new migrations.
 * Each carries its statements per dialect; a dialect without statements cannot open the index.
 */
export interface Migration {
  version: number;
  name: string;
  statements: Partial<Record<DialectName, readonly string[]>>;
}

/**
 * Version 1, SQLite. Design notes (they hold for MySQL too, with the differences noted below):
 * - `series.hash` is the primary key: the unsigned 64-bit series hash, stored in SQLite as its signed
 *   reinterpretation (MySQL: BIGINT UNSIGNED). `series_key` (`name{a="b",…}`) is its only text:
 *   it orders /series answers and detects hash collisions, and the labels are read back from it
 *   (`labelSetFromKey`).
 * - `label_postings` holds postings in chunks: one row per label pair per written batch, with the
 *   hashes of that batch's new series carrying the pair (`hashes`: unsigned 64-bit big-endian,
 *   ascending). A batch of 1,000 series shares most of its pairs, so it writes about one chunk row
 *   per distinct pair instead of one row per label per series. `first_hash`, the smallest hash of
 *   the chunk, tells chunks apart: a series is new in exactly one committed batch, so two chunks of
 *   one pair never share it. Which labels a series has is read from the series row itself.
 * - `label_names` / `label_values` list what exists without reading postings; they carry how many
 *   series have the pair (to pick the most selective matcher) and the min/max time bounds of those
 *   series (to skip pairs outside a queried time range, and to prove most pairs inside one).
 * - `metric_metadata` is keyed by a digest of (family, type, help, unit): one short unique key even
 *   though help texts are long.
 * Every upserted table has exactly one unique key (see `UpsertSpec.key`).
 */
const V1_SQLITE = [
  `CREATE TABLE series (
    hash INTEGER NOT NULL PRIMARY KEY,
    series_key TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  ) STRICT`,
  `CREATE TABLE label_postings (
    label_name TEXT NOT NULL,
    label_value TEXT NOT NULL,
    first_hash INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (label_name, label_value, first_hash)
  ) STRICT, WITHOUT ROWID`,
  `CREATE TABLE label_names (
    label_name TEXT NOT NULL PRIMARY KEY,
    series_count INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID`,
  `CREATE TABLE label_values (
    label_name TEXT NOT NULL,
    label_value TEXT NOT NULL,
    series_count INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (label_name, label_value)
  ) STRICT, WITHOUT ROWID`,
  `CREATE TABLE metric_metadata (
    metadata_id TEXT NOT NULL PRIMARY KEY,
    metric_family TEXT NOT NULL,
    type TEXT NOT NULL,
    help TEXT NOT NULL,
    unit TEXT NOT NULL,
    last_seen INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID`,
  `CREATE INDEX metric_metadata_by_family ON metric_metadata (metric_family)`,
];

/**
 * Version 1, MySQL / MariaDB: the SQLite tables with these differences.
 * - MySQL DDL commits implicitly, so a failed migration is not rolled back: every statement is
 *   idempotent (`IF NOT EXISTS`, indexes inside CREATE TABLE) and the version is recorded after
 *   the last one; concurrent starters are serialized by the adapter (`GET_LOCK`).
 * - Text is binary (VARBINARY / MEDIUMBLOB): equality and ORDER BY by UTF-8 bytes, like Go.
 * - InnoDB caps an index key at 3072 bytes, and names and values have no length limit. So label
 *   names and values are keyed by `name_key` / `value_key` (the text itself up to 1024 bytes,
 *   else a prefix and a digest: `mysqlLabelKey`); postings hold the keys only, `label_names` and
 *   `label_values` also the text. `metric_metadata` is looked up by a prefix index on the family.
 * - One unique key per upserted table, as on SQLite (`UpsertSpec.key`).
 */
const V1_MYSQL = [
  `CREATE TABLE IF NOT EXISTS series (
    hash BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    series_key MEDIUMBLOB NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
  ) ENGINE = InnoDB`,
  `CREATE TABLE IF NOT EXISTS label_postings (
    name_key VARBINARY(1067) NOT NULL,
    value_key VARBINARY(1067) NOT NULL,
    first_hash BIGINT UNSIGNED NOT NULL,
    hashes MEDIUMBLOB NOT NULL,
    PRIMARY KEY (name_key, value_key, first_hash)
  ) ENGINE = InnoDB`,
  `CREATE TABLE IF NOT EXISTS label_names (
    name_key VARBINARY(1067) NOT NULL PRIMARY KEY,
    label_name MEDIUMBLOB NOT NULL,
    series_count BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
  ) ENGINE = InnoDB`,
  `CREATE TABLE IF NOT EXISTS label_values (
    name_key VARBINARY(1067) NOT NULL,
    value_key VARBINARY(1067) NOT NULL,
    label_name MEDIUMBLOB NOT NULL,
    label_value MEDIUMBLOB NOT NULL,
    series_count BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (name_key, value_key)
  ) ENGINE = InnoDB`,
  `CREATE TABLE IF NOT EXISTS metric_metadata (
    metadata_id VARBINARY(64) NOT NULL PRIMARY KEY,
    metric_family MEDIUMBLOB NOT NULL,
    type VARBINARY(32) NOT NULL,
    help MEDIUMBLOB NOT NULL,
    unit MEDIUMBLOB NOT NULL,
    last_seen BIGINT NOT NULL,
    KEY metric_metadata_by_family (metric_family(255))
  ) ENGINE = InnoDB`,
];

export const INDEX_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'series, label posting chunks, label names and values, metric metadata',
    statements: { sqlite: V1_SQLITE, mysql: V1_MYSQL },
  },
];

/** Portable to SQLite and MySQL as written. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/**
 * Applies the migrations the database lacks, in order, each in its own transaction together with its
 * `schema_migrations` row, so two processes opening the same database apply each migration once.
 * Returns the versions applied now.
 */
export async function applyMigrations(
  store: SqlStore,
  migrations: readonly Migration[] = INDEX_MIGRATIONS,
  now: () => number = Date.now,
): Promise<number[]> {
  assertOrdered(migrations);
  await store.exec(CREATE_MIGRATIONS_TABLE);
  const known = migrations.at(-1)?.version ?? 0;
  const newest = await newestAppliedVersion(store);
  if (newest > known) {
    throw new ConfigError(`the index database has schema version ${newest}, newer than this weir knows (${known}); upgrade weir`);
  }
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= newest) continue;
    const statements = migration.statements[store.dialect.name];
    if (!statements) {
      throw new ConfigError(`index migration ${migration.version} (${migration.name}) has no statements for ${store.dialect.name}`);
    }
    const didApply = await store.transaction(async (tx) => {
      // Re-checked inside the transaction: another process may have applied it since.
      const rows = await tx.query<{ found: unknown }>('SELECT 1 AS found FROM schema_migrations WHERE version = ?', [migration.version]);
      if (rows.length > 0) return false;
      for (const sql of statements) await tx.exec(sql);
      await tx.exec('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        now(),
      ]);
      return true;
    });
    if (didApply) applied.push(migration.version);
  }
  return applied;
}

async function newestAppliedVersion(store: SqlStore): Promise<number> {
  const [row] = await store.query<{ version: SqlNumber }>('SELECT MAX(version) AS version FROM schema_migrations');
  return row?.version === null || row?.version === undefined ? 0 : Number(row.version);
}

type SqlNumber = number | bigint | null;

function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    const previous = i === 0 ? 0 : migrations[i - 1].version;
    if (!Number.isInteger(m.version) || m.version <= previous) {
      throw new Error(`index migrations must have increasing integer versions; ${m.version} follows ${previous}`);
    }
  });
}
