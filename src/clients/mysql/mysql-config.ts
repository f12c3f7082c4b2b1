import { ConfigError } from '../../errors.js';

/** Where the index database is: a URL, or its parts (parts given explicitly win over the URL's). */
export interface MysqlConnectionOptions {
  /** `mysql://user:password@host:port/database`; query parameters are not read. */
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
}

export interface ResolvedMysqlConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

const DEFAULT_PORT = 3306;
/** What `CREATE DATABASE ??` will be asked to create: a plain identifier, no quoting games. */
const DATABASE_NAME = /^[A-Za-z0-9_$]{1,64}$/;

/** Resolves the URL and the explicit parts into one connection; a database name is required. */
export function resolveMysqlConnection(options: MysqlConnectionOptions): ResolvedMysqlConnection {
  const fromUrl = options.url ? parseMysqlUrl(options.url) : {};
  const merged = { ...fromUrl, ...definedOnly(options) };
  const database = merged.database ?? '';
  if (!DATABASE_NAME.test(database)) {
    throw new ConfigError(
      database === ''
        ? 'the MySQL index needs a database name (in the URL path or `database`)'
        : `MySQL database name "${database}" must be 1 to 64 letters, digits, "_" or "$"`,
    );
  }
  const port = merged.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new ConfigError(`MySQL port ${port} is not a TCP port`);
  return { host: merged.host ?? '127.0.0.1', port, user: merged.user ?? 'root', password: merged.password ?? '', database };
}

function parseMysqlUrl(url: string): Partial<ResolvedMysqlConnection> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`not a URL: ${redactPassword(url)}`);
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new ConfigError(`a MySQL URL starts with mysql:// or mariadb://, not ${parsed.protocol}//`);
  }
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return definedOnly({
    host: host || undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : undefined,
  });
}

/** For messages: never print a password. */
export function redactPassword(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([key, v]) => v !== undefined && key !== 'url')) as Partial<T>;
}
