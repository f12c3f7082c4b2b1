/** Where a Redis is and how to sign in, as a `redis://` URL gives it. */
export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
}

/** `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS (ioredis' reading of the same URL). */
export function parseRedisUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not a Redis URL: ${redact(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error(`not a Redis URL (redis:// or rediss://): ${redact(url)}`);
  const path = parsed.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new Error(`Redis URL: the path must be a database number, not "${path}"`);
  // ioredis read options from the query (?db=, ?password=); silently ignoring them would connect elsewhere.
  if (parsed.search !== '' || parsed.hash !== '') throw new Error(`Redis URL: options after ? or # are not supported (put the database in the path): ${redact(url)}`);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    tls: parsed.protocol === 'rediss:',
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: path === '' ? 0 : Number(path),
  };
}

/** A URL with its credentials masked, for logs. */
export function redact(url: string): string {
  // Up to the last @ anywhere: a password may hold a raw @, / ? or #, and a log line must show none of it.
  return url.replace(/\/\/.*@/s, '//***@');
}
