import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.js';
import { redactPassword, resolveMysqlConnection } from './mysql-config.js';

describe('resolveMysqlConnection', () => {
  it('reads host, port, user, password and database from the URL, percent-decoded', () => {
    expect(resolveMysqlConnection({ url: 'mysql://weir:p%40ss%2Fword@db.example:3307/weir_index' })).toEqual({
      host: 'db.example',
      port: 3307,
      user: 'weir',
      password: 'p@ss/word',
      database: 'weir_index',
    });
    expect(resolveMysqlConnection({ url: 'mariadb://[::1]/idx' })).toMatchObject({ host: '::1', port: 3306, user: 'root', password: '' });
  });

  it('lets explicit parts win over the URL and defaults the rest', () => {
    expect(resolveMysqlConnection({ url: 'mysql://a:b@h:1/db1', database: 'db2', password: 'secret' })).toEqual({
      host: 'h',
      port: 1,
      user: 'a',
      password: 'secret',
      database: 'db2',
    });
    expect(resolveMysqlConnection({ database: 'only' })).toEqual({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'only' });
  });

  it('needs a plain database name', () => {
    expect(() => resolveMysqlConnection({ url: 'mysql://root@localhost' })).toThrow(/needs a database name/);
    expect(() => resolveMysqlConnection({ database: 'a`; DROP DATABASE x; --' })).toThrow(ConfigError);
    expect(() => resolveMysqlConnection({ database: 'x'.repeat(65) })).toThrow(ConfigError);
  });

  it('refuses other URL schemes, bad ports and non-URLs without printing the password', () => {
    expect(() => resolveMysqlConnection({ url: 'postgres://u@h/db' })).toThrow(/mysql:\/\/ or mariadb:\/\//);
    expect(() => resolveMysqlConnection({ database: 'db', port: 70_000 })).toThrow(/not a TCP port/);
    expect(() => resolveMysqlConnection({ url: 'mysql://u:hunter2@' })).toThrow(/mysql:\/\/u:\*\*\*@/);
  });
});

describe('redactPassword', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactPassword('mysql://weir:hunter2@db:3306/x')).toBe('mysql://weir:***@db:3306/x');
    expect(redactPassword('mysql://weir@db/x')).toBe('mysql://weir@db/x');
  });
});
