import { createHash } from 'node:crypto';
import type { LabelKeys, MergeRule, SqlDialect, SqlFragment, SqlValue, UpsertSpec } from '../../index/sql-store.js';

/**
 * Label names and values up to this many UTF-8 bytes are their own key; longer ones are keyed by
 * their first bytes plus a SHA-256 digest. InnoDB caps an index key at 3072 bytes and the postings
 * key holds a name key, a value key and the series hash: 2 × (1024 + 43) + 8 = 2142 bytes.
 * The key columns are VARBINARY(1067) in the schema (`src/index/schema.ts`).
 */
export const LABEL_KEY_TEXT_LIMIT = 1024;
/** base64url of a SHA-256 digest. */
const DIGEST_LENGTH = 43;
export const LABEL_KEY_MAX_BYTES = LABEL_KEY_TEXT_LIMIT + DIGEST_LENGTH;

/**
 * The key of a label name or value: the text itself when it has at most `LABEL_KEY_TEXT_LIMIT`
 * bytes, else its longest prefix within the limit (cut between characters) followed by the
 * base64url SHA-256 of the whole text. A long text's key is longer than the limit, so it never
 * equals a short text; two long texts share a key only if their digests collide.
 */
export function mysqlLabelKey(text: string): string {
  // Fast path: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (text.length * 3 <= LABEL_KEY_TEXT_LIMIT) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= LABEL_KEY_TEXT_LIMIT) return text;
  let cut = LABEL_KEY_TEXT_LIMIT;
  while ((bytes[cut] & 0xc0) === 0x80) cut--; // back up to the first byte of a character
  return bytes.toString('utf8', 0, cut) + createHash('sha256').update(bytes).digest('base64url');
}

const MYSQL_LABEL_KEYS: LabelKeys = { nameColumn: 'name_key', valueColumn: 'value_key', keyOf: mysqlLabelKey };

/** Client-side interpolation has no parameter limit; this keeps statements well under max_allowed_packet. */
const MYSQL_MAX_PARAMETERS = 65_535;

const MERGE_FUNCTIONS: Record<MergeRule, (column: string) => string> = {
  min: (column) => `LEAST(${column}, VALUES(${column}))`,
  max: (column) => `GREATEST(${column}, VALUES(${column}))`,
  sum: (column) => `${column} + VALUES(${column})`,
};

const UINT64_LIMIT = 1n << 64n;

/** The decimal digits of an unsigned 64-bit integer, safe to write into a statement as is. */
function uint64Literal(value: bigint): string {
  if (typeof value !== 'bigint' || value < 0n || value >= UINT64_LIMIT) throw new TypeError(`not an unsigned 64-bit hash: ${String(value)}`);
  return value.toString();
}

/**
 * MySQL / MariaDB. Text columns are binary (VARBINARY / BLOB): comparisons and ORDER BY are by
 * UTF-8 bytes like Go's, with no PAD SPACE surprises (`utf8mb4_bin` ignores trailing spaces), on
 * MariaDB and MySQL alike. Upserts use `VALUES(col)`, which MariaDB has and MySQL 8 still accepts
 * (MariaDB has no `AS new` row alias).
 */
export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  maxParameters: MYSQL_MAX_PARAMETERS,
  labelKeys: MYSQL_LABEL_KEYS,

  placeholders(count: number): string {
    return Array.from({ length: count }, () => '?').join(', ');
  },

  /** BIGINT UNSIGNED holds the hash as is; the driver writes a bigint as its decimal digits. */
  encodeHash(hash: bigint): SqlValue {
    return hash;
  },

  decodeHash(value: SqlValue): bigint {
    if (typeof value !== 'bigint' && typeof value !== 'string' && typeof value !== 'number') {
      throw new TypeError(`not a stored hash: ${String(value)}`);
    }
    const hash = BigInt(value);
    if (hash < 0n || hash >= UINT64_LIMIT) throw new TypeError(`not a stored hash: ${String(value)}`);
    return hash;
  },

  upsertSql(spec: UpsertSpec, rowCount: number): string {
    const row = `(${this.placeholders(spec.columns.length)})`;
    const rows = Array.from({ length: rowCount }, () => row).join(', ');
    const insert = `INSERT INTO ${spec.table} (${spec.columns.join(', ')}) VALUES ${rows} ON DUPLICATE KEY UPDATE`;
    const merges = Object.entries(spec.merge ?? {});
    // Not INSERT IGNORE: it would also turn errors (a too long value) into warnings. Assigning a
    // key column to itself changes nothing and reports 0 affected rows (without CLIENT_FOUND_ROWS).
    if (merges.length === 0) return `${insert} ${spec.key[0]} = ${spec.key[0]}`;
    const guard = spec.mergeOnlyIfEqual;
    // Each assignment reads only its own column and the guard (never assigned): MySQL evaluates
    // assignments left to right, so reading an earlier-assigned column would see its new value.
    const assignments = merges.map(([column, rule]) => {
      const merged = MERGE_FUNCTIONS[rule](column);
      return `${column} = ${guard ? `IF(${guard} = VALUES(${guard}), ${merged}, ${column})` : merged}`;
    });
    return `${insert} ${assignments.join(', ')}`;
  },

  /**
   * Always a constant list (interpolated by the driver, so there is no parameter limit): the range
   * optimizer turns it into index lookups, and MariaDB turns long lists into a semi-join itself
   * (`in_predicate_conversion_threshold`). A JSON_TABLE list was planned as a scan of every posting
   * of the label name on a table without statistics.
   */
  inList(column: string, values: readonly string[]): SqlFragment {
    if (values.length === 0) return { sql: '1 = 0', params: [] };
    return { sql: `${column} IN (${this.placeholders(values.length)})`, params: [...values] };
  },

  /**
   * Every hash cast to one type: MariaDB evaluates an IN list that mixes literals below 2^63
   * (BIGINT) and above (unsigned / DECIMAL) by scanning the whole primary key, not by lookups.
   */
  hashInList(column: string, hashes: readonly bigint[]): SqlFragment {
    if (hashes.length === 0) return { sql: '1 = 0', params: [] };
    // Written as numeric literals (a bigint checked to be a uint64 prints as digits only): a
    // thousand parameters per statement were the driver's formatting work on every window.
    return { sql: `${column} IN (${hashes.map((hash) => `CAST(${uint64Literal(hash)} AS UNSIGNED)`).join(', ')})`, params: [] };
  },
};
