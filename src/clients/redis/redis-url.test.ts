import { describe, expect, it } from 'vitest';
import { parseRedisUrl, redact } from './redis-url.js';
import { RespConnection } from './resp-connection.js';

describe('parseRedisUrl', () => {
  it('defaults host, port and db; no credentials, no TLS', () => {
    expect(parseRedisUrl('redis://localhost')).toEqual({ host: 'localhost', port: 6379, tls: false, username: undefined, password: undefined, db: 0 });
    expect(parseRedisUrl('redis://')).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(parseRedisUrl('redis://h/')).toMatchObject({ host: 'h', db: 0 });
  });

  it('reads user, password, port and db', () => {
    expect(parseRedisUrl('redis://alice:s3cret@cache.example:6380/7')).toEqual({
      host: 'cache.example',
      port: 6380,
      tls: false,
      username: 'alice',
      password: 's3cret',
      db: 7,
    });
    // A password alone (AUTH password), the form Redis without ACL users takes.
    expect(parseRedisUrl('redis://:pw@h')).toMatchObject({ username: undefined, password: 'pw' });
    expect(parseRedisUrl('redis://h/03').db).toBe(3);
  });

  it('percent-decodes the credentials', () => {
    expect(parseRedisUrl('redis://us%40er:p%40ss%3Aw%2Frd%25@h/1')).toMatchObject({ username: 'us@er', password: 'p@ss:w/rd%', db: 1 });
  });

  it('takes rediss:// as TLS', () => {
    expect(parseRedisUrl('rediss://:pw@h:6390')).toMatchObject({ host: 'h', port: 6390, tls: true, password: 'pw' });
  });

  it('unwraps an IPv6 address', () => {
    expect(parseRedisUrl('redis://[::1]:7000/2')).toMatchObject({ host: '::1', port: 7000, db: 2 });
    expect(parseRedisUrl('redis://[::1]').host).toBe('::1');
  });

  it('rejects other schemes, non-numeric paths and non-URLs, without showing the password', () => {
    expect(() => parseRedisUrl('http://u:hunter2@h:6379')).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisUrl('http://u:hunter2@h:6379')).not.toThrow(/hunter2/);
    expect(() => parseRedisUrl('h:6379')).toThrow(/not a Redis URL/);
    expect(() => parseRedisUrl('no url at all')).toThrow(/not a Redis URL/);
    expect(() => parseRedisUrl('redis://h/cache')).toThrow(/database number/);
    expect(() => parseRedisUrl('redis://h/1/2')).toThrow(/database number/);
    expect(() => parseRedisUrl('redis://h/-1')).toThrow(/database number/);
  });

  it('rejects options after ? or # (ioredis read some of them: ignoring them would connect elsewhere), without showing the password', () => {
    for (const url of ['redis://h?db=3', 'redis://h/1#x', 'redis://h/?password=x', 'rediss://h:6390/2?tls=false', 'redis://h/1?db=3#x']) {
      expect(() => parseRedisUrl(url), url).toThrow(/Redis URL: options after \? or # are not supported/);
    }
    expect(() => parseRedisUrl('redis://:hunter2@h/2?db=3')).toThrow('redis://***@h/2?db=3');
    expect(() => parseRedisUrl('redis://:hunter2@h/2?db=3')).not.toThrow(/hunter2/);
    // Nor does a connection start with one.
    expect(() => new RespConnection({ url: 'redis://127.0.0.1:1/0?db=3', connectTimeout: 100, socketTimeout: 100 })).toThrow(/options after \? or #/);
  });
});

describe('redact', () => {
  it('masks the credentials and keeps the rest', () => {
    expect(redact('redis://alice:s3cret@h:6380/2')).toBe('redis://***@h:6380/2');
    expect(redact('rediss://:pw@h')).toBe('rediss://***@h');
    expect(redact('redis://h:6379/2')).toBe('redis://h:6379/2');
  });

  it('masks all of a password with a raw @ in it (the URL parser splits at the last @)', () => {
    expect(parseRedisUrl('redis://u:p@ss@h').password).toBe('p@ss');
    expect(redact('redis://u:p@ss@h/1')).toBe('redis://***@h/1');
  });

  it('masks a password with a raw / ? or # in it too, in the errors that quote such a URL', () => {
    expect(redact('redis://u:6380#secret@h/1')).toBe('redis://***@h/1');
    expect(redact('redis://:p/w?x@h')).toBe('redis://***@h');
    expect(() => parseRedisUrl('redis://u:6380#secret@h/1')).toThrow(/^(?!.*secret)/);
  });
});
