/**
 * The narrow SQL interface the series index runs on. The schema and the queries are written once
 * against it; each database (SQLite now, MySQL/MariaDB next) supplies an adapter and a dialect, and
 * every difference between them lives in the dialect. Statements are always parameterized.
 */

/** `Uint8Array` is a binary parameter (BLOB); binary columns come back as `Buffer`. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/** Integer columns may come back as `bigint` (SQLite with safe integers) or `number`. */
export type SqlRow = Record<string, SqlValue>;

export interface SqlExecutor {
  /** Runs a statement that returns rows. */
  query<Row = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs a statement that returns no rows (DDL, INSERT, UPDATE). */
  exec(sql: string, params?: readonly SqlValue[], options?: ExecOptions): Promise<{ changes: number }>;
}

export interface ExecOptions {
  /**
   * The statement is one of a few shapes run over and over (the write path's upserts): an adapter
   * may keep it prepared and bind the parameters in binary (MySQL: server-side prepared statements,
   * no client-side escaping of a megabyte of values). Without it, statements are formatted as usual.
   */
  prepared?: boolean;
}

export interface SqlStore extends SqlExecutor {
  readonly dialect: SqlDialect;
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type DialectName = 'sqlite' | 'mysql';

/** How an upsert combines the stored value with the incoming one. */
export type MergeRule = 'min' | 'max' | 'sum';

export interface UpsertSpec {
  table: string;
  columns: readonly string[];
  /**
   * The table's one unique key. Upserted tables have exactly one: MySQL's `ON DUPLICATE KEY UPDATE`
   * fires on any unique key and takes gap locks on each, a known deadlock source.
   */
  key: readonly string[];
  /** Columns merged on conflict; other columns keep the stored value. Empty: insert if absent. */
  merge?: Readonly<Record<string, MergeRule>>;
  /** Merge only when this column's stored value equals the incoming one (the hash-collision guard). */
  mergeOnlyIfEqual?: string;
}

export interface SqlFragment {
  sql: string;
  params: SqlValue[];
}

export interface SqlDialect {
  readonly name: DialectName;
  /** Most bound parameters one statement may carry. */
  readonly maxParameters: number;
  /** `count` parameter placeholders, comma-separated. */
  placeholders(count: number): string;
  /** The stored form of an unsigned 64-bit series hash, and back. */
  encodeHash(hash: bigint): SqlValue;
  decodeHash(value: SqlValue): bigint;
  /** A multi-row `INSERT … VALUES (…), (…)` that merges into existing rows per `spec`. */
  upsertSql(spec: UpsertSpec, rowCount: number): string;
  /** `column IN (…)` over a list of strings of any length (long lists travel as one parameter). */
  inList(column: string, values: readonly string[]): SqlFragment;
  /** How label names and values are keyed; absent: by the text itself (`TEXT_LABEL_KEYS`). */
  readonly labelKeys?: LabelKeys;
  /** `column IN (…)` over series hashes; absent: one placeholder per `encodeHash` value. */
  hashInList?(column: string, hashes: readonly bigint[]): SqlFragment;
}

/**
 * The columns that key label names and values in `label_postings`, `label_names` and
 * `label_values`, and how a text becomes its key. SQLite keys by the text itself. MySQL caps an
 * index key at 3072 bytes, so it keys by a bounded form of the text in columns of their own and
 * keeps the text beside them (see the MySQL dialect). Conditions and joins go through the key
 * columns; the text columns (`label_name`, `label_value`) are what queries return and sort by.
 */
export interface LabelKeys {
  readonly nameColumn: string;
  readonly valueColumn: string;
  /** The key of a label name or value. */
  keyOf(text: string): string;
}

export const TEXT_LABEL_KEYS: LabelKeys = { nameColumn: 'label_name', valueColumn: 'label_value', keyOf: (text) => text };

export function labelKeysOf(dialect: SqlDialect): LabelKeys {
  return dialect.labelKeys ?? TEXT_LABEL_KEYS;
}

export function hashInList(dialect: SqlDialect, column: string, hashes: readonly bigint[]): SqlFragment {
  if (dialect.hashInList) return dialect.hashInList(column, hashes);
  return { sql: `${column} IN (${dialect.placeholders(hashes.length)})`, params: hashes.map((h) => dialect.encodeHash(h)) };
}
