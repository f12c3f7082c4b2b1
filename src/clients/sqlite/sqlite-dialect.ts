import type { MergeRule, SqlDialect, SqlFragment, SqlValue, UpsertSpec } from '../../index/sql-store.js';

/** Lists longer than this are bound as one JSON parameter instead of one parameter per value. */
const INLINE_LIST_LIMIT = 100;

/** SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32. */
const SQLITE_MAX_PARAMETERS = 32_766;

const MERGE_FUNCTIONS: Record<MergeRule, (stored: string, incoming: string) => string> = {
  min: (stored, incoming) => `min(${stored}, ${incoming})`,
  max: (stored, incoming) => `max(${stored}, ${incoming})`,
  sum: (stored, incoming) => `${stored} + ${incoming}`,
};

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  maxParameters: SQLITE_MAX_PARAMETERS,

  placeholders(count: number): string {
    return Array.from({ length: count }, () => '?').join(', ');
  },

  /** SQLite integers are signed 64-bit: store the hash's two's-complement reinterpretation. */
  encodeHash(hash: bigint): SqlValue {
    return BigInt.asIntN(64, hash);
  },

  decodeHash(value: SqlValue): bigint {
    if (typeof value !== 'bigint' && typeof value !== 'number') throw new TypeError(`not a stored hash: ${String(value)}`);
    return BigInt.asUintN(64, BigInt(value));
  },

  upsertSql(spec: UpsertSpec, rowCount: number): string {
    const row = `(${this.placeholders(spec.columns.length)})`;
    const rows = Array.from({ length: rowCount }, () => row).join(', ');
    const insert = `INSERT INTO ${spec.table} (${spec.columns.join(', ')}) VALUES ${rows} ON CONFLICT (${spec.key.join(', ')})`;
    const merges = Object.entries(spec.merge ?? {});
    if (merges.length === 0) return `${insert} DO NOTHING`;
    const assignments = merges.map(([column, rule]) => `${column} = ${MERGE_FUNCTIONS[rule](`${spec.table}.${column}`, `excluded.${column}`)}`);
    const guard = spec.mergeOnlyIfEqual
      ? ` WHERE ${spec.table}.${spec.mergeOnlyIfEqual} = excluded.${spec.mergeOnlyIfEqual}`
      : '';
    return `${insert} DO UPDATE SET ${assignments.join(', ')}${guard}`;
  },

  inList(column: string, values: readonly string[]): SqlFragment {
    if (values.length === 0) return { sql: '1 = 0', params: [] };
    if (values.length <= INLINE_LIST_LIMIT) return { sql: `${column} IN (${this.placeholders(values.length)})`, params: [...values] };
    return { sql: `${column} IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(values)] };
  },
};
