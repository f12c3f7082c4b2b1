import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { openMysqlStore, type MysqlStore, type MysqlStoreOptions } from '../../src/clients/mysql/mysql-store.js';

/** The server the integration tests use (scripts/services.sh starts one). */
export const MYSQL_URL = process.env.WEIR_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

/** A database name no other test run uses. */
export function testDatabaseName(): string {
  return `weir_test_${randomBytes(6).toString('hex')}`;
}

/** The server URL with `database` as its path. */
export function databaseUrl(database: string): string {
  const url = new URL(MYSQL_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Databases created by this test file and not dropped yet: `dropTestDatabases` cleans up after failures. */
const created = new Set<string>();

/** A store on a new, empty database, which is dropped when the store is closed. */
export async function openTestStore(options: Omit<MysqlStoreOptions, 'url' | 'database'> = {}): Promise<MysqlStore> {
  const database = testDatabaseName();
  created.add(database);
  const store = await openMysqlStore({ url: databaseUrl(database), createDatabase: true, ...options });
  return {
    dialect: store.dialect,
    database: store.database,
    query: (sql, params) => store.query(sql, params),
    exec: (sql, params) => store.exec(sql, params),
    transaction: (work) => store.transaction(work),
    withNamedLock: (name, timeoutSeconds, work) => store.withNamedLock(name, timeoutSeconds, work),
    async close() {
      await store.close();
      await dropDatabase(database);
    },
  };
}

export async function dropDatabase(database: string): Promise<void> {
  const admin = await adminConnection();
  try {
    await admin.query('DROP DATABASE IF EXISTS ??', [database]);
    created.delete(database);
  } finally {
    await admin.end();
  }
}

/** For `afterAll`: drops what a failed test left behind. */
export async function dropTestDatabases(): Promise<void> {
  for (const database of [...created]) await dropDatabase(database);
}

/** A plain connection to the server, for setup and inspection. */
export function adminConnection(database?: string): Promise<mysql.Connection> {
  const url = new URL(MYSQL_URL);
  return mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
  });
}
