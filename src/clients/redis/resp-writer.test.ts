import { describe, expect, it } from 'vitest';
import { encodeCommand } from './resp-writer.js';
import { bytes } from './resp.test-support.js';

describe('encodeCommand', () => {
  it('writes an array of bulk strings, UTF-8 and bytes as given', () => {
    expect(encodeCommand(['SET', 'k', 'é']).toString('latin1')).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n');
    expect(encodeCommand([Buffer.from([0, 13, 10])])).toEqual(Buffer.concat([bytes('*1\r\n$3\r\n'), Buffer.from([0, 13, 10]), bytes('\r\n')]));
  });
});
