import { describe, expect, it } from 'vitest';
import { INDEX_MIGRATIONS } from '../../index/schema.js';
import { LABEL_KEY_MAX_BYTES, LABEL_KEY_TEXT_LIMIT, mysqlDialect, mysqlLabelKey } from './mysql-dialect.js';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('mysqlDialect.upsertSql', () => {
  it('merges with LEAST, GREATEST and a sum', () => {
    const spec = { table: 'm', columns: ['k', 'lo', 'hi', 'n'], key: ['k'], merge: { lo: 'min', hi: 'max', n: 'sum' } } as const;
    expect(mysqlDialect.upsertSql(spec, 2)).toBe(
      'INSERT INTO m (k, lo, hi, n) VALUES (?, ?, ?, ?), (?, ?, ?, ?) ON DUPLICATE KEY UPDATE ' +
        'lo = LEAST(lo, VALUES(lo)), hi = GREATEST(hi, VALUES(hi)), n = n + VALUES(n)',
    );
  });

  it('guards every merge with the equality of the guard column', () => {
    const spec = { table: 'g', columns: ['k', 'owner', 'hi'], key: ['k'], merge: { hi: 'max' }, mergeOnlyIfEqual: 'owner' } as const;
    expect(mysqlDialect.upsertSql(spec, 1)).toBe(
      'INSERT INTO g (k, owner, hi) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE hi = IF(owner = VALUES(owner), GREATEST(hi, VALUES(hi)), hi)',
    );
  });

  it('inserts only when absent by assigning a key column to itself, not with INSERT IGNORE', () => {
    const sql = mysqlDialect.upsertSql({ table: 'p', columns: ['a', 'b'], key: ['a', 'b'] }, 1);
    expect(sql).toBe('INSERT INTO p (a, b) VALUES (?, ?) ON DUPLICATE KEY UPDATE a = a');
  });
});

describe('mysqlDialect.inList', () => {
  it('binds every value as a parameter, and matches nothing for no values', () => {
    expect(mysqlDialect.inList('c', ['x', 'y'])).toEqual({ sql: 'c IN (?, ?)', params: ['x', 'y'] });
    const many = Array.from({ length: 5_000 }, (_, i) => `v${i}`);
    expect(mysqlDialect.inList('c', many).params).toEqual(many);
    expect(mysqlDialect.inList('c', [])).toEqual({ sql: '1 = 0', params: [] });
  });
});

describe('mysqlDialect hashes', () => {
  it('stores the unsigned hash as is and reads it back from a bigint or the driver\'s digits', () => {
    for (const hash of [0n, 1n << 63n, (1n << 64n) - 1n]) {
      expect(mysqlDialect.encodeHash(hash)).toBe(hash);
      expect(mysqlDialect.decodeHash(hash)).toBe(hash);
      expect(mysqlDialect.decodeHash(hash.toString())).toBe(hash);
    }
  });

  it('casts every hash in an IN list to one type, written as checked numeric literals', () => {
    expect(mysqlDialect.hashInList!('hash', [1n, (1n << 64n) - 1n])).toEqual({
      sql: 'hash IN (CAST(1 AS UNSIGNED), CAST(18446744073709551615 AS UNSIGNED))',
      params: [],
    });
    expect(mysqlDialect.hashInList!('hash', [])).toEqual({ sql: '1 = 0', params: [] });
    expect(() => mysqlDialect.hashInList!('hash', [-1n])).toThrow(TypeError);
    expect(() => mysqlDialect.hashInList!('hash', [1n << 64n])).toThrow(TypeError);
    expect(() => mysqlDialect.hashInList!('hash', ['1) OR (1' as unknown as bigint])).toThrow(TypeError);
  });

  it('refuses what cannot be a stored hash', () => {
    expect(() => mysqlDialect.decodeHash(-1n)).toThrow(TypeError);
    expect(() => mysqlDialect.decodeHash((1n << 64n).toString())).toThrow(TypeError);
    expect(() => mysqlDialect.decodeHash(null)).toThrow(TypeError);
  });
});

describe('mysqlLabelKey', () => {
  it('is the text itself up to the limit, counted in UTF-8 bytes', () => {
    for (const text of ['', 'job', 'a ', 'x'.repeat(LABEL_KEY_TEXT_LIMIT), '€'.repeat(341), '😀'.repeat(256)]) {
      expect(bytes(text)).toBeLessThanOrEqual(LABEL_KEY_TEXT_LIMIT);
      expect(mysqlLabelKey(text)).toBe(text);
    }
  });

  it('keys a longer text by a prefix cut between characters and a digest, longer than any short text', () => {
    for (const text of ['x'.repeat(LABEL_KEY_TEXT_LIMIT + 1), '€'.repeat(400), `${'a'.repeat(1_023)}😀tail`, 'é'.repeat(100_000)]) {
      const key = mysqlLabelKey(text);
      expect(bytes(key)).toBeGreaterThan(LABEL_KEY_TEXT_LIMIT);
      expect(bytes(key)).toBeLessThanOrEqual(LABEL_KEY_MAX_BYTES);
      expect(key).not.toContain('\ufffd'); // no character split in two
      const prefix = key.slice(0, -43);
      expect(text.startsWith(prefix)).toBe(true);
      expect(bytes(prefix)).toBeGreaterThan(LABEL_KEY_TEXT_LIMIT - 4);
      expect(mysqlLabelKey(text)).toBe(key);
    }
  });

  it('gives long texts that share their first kilobytes different keys', () => {
    const shared = 'p'.repeat(2_000);
    const keys = new Set([`${shared}a`, `${shared}b`, shared, `${shared}aa`].map(mysqlLabelKey));
    expect(keys.size).toBe(4);
  });

  it('fits the key columns of the MySQL schema, and two keys and a hash fit InnoDB\'s 3072-byte index key', () => {
    const ddl = INDEX_MIGRATIONS.flatMap((m) => m.statements.mysql ?? []).join('\n');
    const keyColumns = [...ddl.matchAll(/(name_key|value_key) VARBINARY\((\d+)\)/g)];
    expect(keyColumns.length).toBeGreaterThanOrEqual(5);
    for (const [, , width] of keyColumns) expect(Number(width)).toBe(LABEL_KEY_MAX_BYTES);
    expect(2 * LABEL_KEY_MAX_BYTES + 8).toBeLessThanOrEqual(3072);
  });
});
