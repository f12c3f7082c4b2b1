import { describe, expect, it } from 'vitest';
import { parseReplies, readInteger } from './resp-replies.js';
import { bytes, showReplies } from './resp.test-support.js';

describe('readInteger', () => {
  const at = (s: string) => readInteger(bytes(s), 0, s.length);
  it('reads decimal integers, negative ones too', () => {
    expect(at('0')).toBe(0);
    expect(at('42')).toBe(42);
    expect(at('-17')).toBe(-17);
    expect(at('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads only its range', () => {
    expect(readInteger(bytes(':123\r\n'), 1, 4)).toBe(123);
    expect(readInteger(bytes('x-5y'), 1, 3)).toBe(-5);
  });

  it('is NaN for anything else', () => {
    for (const s of ['', '-', '+1', '1a', ' 1', '1.5', '--1']) expect(at(s), s).toBeNaN();
  });
});

describe('parseReplies', () => {
  it('reads simple strings, errors and integers', () => {
    const r = parseReplies(bytes('+OK\r\n+\r\n-ERR wrong type\r\n:0\r\n:1234\r\n:-56\r\n'), 6);
    expect(showReplies(r)).toEqual(['+OK', '+', '-ERR wrong type', ':0', ':1234', ':-56']);
    expect(r.text(0)).toBe('OK');
    expect(r.text(2)).toBe('ERR wrong type');
    expect([r.integer(3), r.integer(4), r.integer(5)]).toEqual([0, 1234, -56]);
    expect(r.integer(0)).toBeNaN(); // not an integer reply
  });

  it('reads bulk strings: empty, nil, and binary ones with CR LF inside', () => {
    const binary = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0x24, 0x2a, 0x0d, 0x0a, 0x0d]);
    const data = Buffer.concat([bytes('$5\r\nhello\r\n$0\r\n\r\n$-1\r\n'), bytes(`$${binary.length}\r\n`), binary, bytes('\r\n:7\r\n')]);
    const r = parseReplies(data, 5);
    expect(r.values).toBe(5);
    expect(showReplies(r).slice(0, 3)).toEqual(['$hello', '$', '$nil']);
    expect([r.starts[2], r.ends[2]]).toEqual([-1, -1]);
    expect(r.text(2)).toBe('');
    expect(Buffer.compare(r.data.subarray(r.starts[3], r.ends[3]), binary)).toBe(0);
    expect(r.integer(4)).toBe(7);
  });

  it('reads arrays flat, elements after their array: empty, nil and nested', () => {
    const r = parseReplies(bytes('*3\r\n$1\r\na\r\n$-1\r\n:9\r\n*0\r\n*-1\r\n*2\r\n*2\r\n+x\r\n*1\r\n-E\r\n*0\r\n+after\r\n'), 5);
    expect(showReplies(r)).toEqual(['*3', '$a', '$nil', ':9', '*0', '*nil', '*2', '*2', '+x', '*1', '-E', '*0', '+after']);
    expect(r.values).toBe(13);
    expect(r.text(0)).toBe(''); // an array has no text
  });

  it('reads only the replies asked for; data ends after them', () => {
    const r = parseReplies(bytes('+a\r\n+b\r\n+c\r\n'), 2);
    expect(showReplies(r)).toEqual(['+a', '+b']);
    expect(r.data.toString('latin1')).toBe('+a\r\n+b\r\n');
    expect(parseReplies(bytes('+a\r\n'), 0).values).toBe(0);
  });

  it('holds more values than its first columns (growth)', () => {
    const n = 1000;
    const data = bytes(`*${n}\r\n` + Array.from({ length: n }, (_, i) => `:${i}\r\n`).join('') + '+end\r\n');
    const r = parseReplies(data, 2);
    expect(r.values).toBe(n + 2);
    expect(r.integer(n)).toBe(n - 1);
    expect(r.text(n + 1)).toBe('end');
  });

  it('says when replies are incomplete', () => {
    for (const s of ['', '+OK', '+OK\r', '$5\r\nhel', '$5\r\nhello', '$5\r\nhello\r', '*2\r\n:1\r\n', '*1\r\n*1\r\n']) {
      expect(() => parseReplies(bytes(s), 1), JSON.stringify(s)).toThrow(/0 of 1 replies complete/);
    }
    expect(() => parseReplies(bytes('+a\r\n'), 2)).toThrow(/1 of 2 replies complete/);
  });

  it('rejects malformed replies', () => {
    for (const s of ['?\r\n', 'OK\r\n', '+OK\n', '$x\r\n', '$\r\n', '$-2\r\n', '*x\r\n', '*-2\r\n', '*1\r\n?\r\n', '$3\r\nabcde\r\n', '$3\r\nabc\n\n']) {
      expect(() => parseReplies(bytes(s), 1), JSON.stringify(s)).toThrow(/malformed/);
    }
  });

  it('reads arrays nested 16 deep; deeper is malformed, not a stack overflow', () => {
    const nested = (depth: number, inner = ':1\r\n') => Buffer.from('*1\r\n'.repeat(depth) + inner, 'latin1');
    const r = parseReplies(nested(16), 1);
    expect(showReplies(r)).toEqual([...Array<string>(16).fill('*1'), ':1']);
    expect(r.next(0)).toBe(17);
    expect(() => parseReplies(nested(17), 1)).toThrow('redis: malformed reply');
    expect(() => parseReplies(nested(10_000), 1)).toThrow('redis: malformed reply');
    // Malformed as soon as the nesting is too deep, even before the rest has arrived.
    expect(() => parseReplies(Buffer.from('*1\r\n'.repeat(1_000_000), 'latin1'), 1)).toThrow('redis: malformed reply');
    // The depth is counted per branch, not over the whole reply: siblings 16 deep are fine.
    const wide = Buffer.concat([bytes('*3\r\n'), nested(15), nested(15, '*0\r\n'), nested(15, '$2\r\nok\r\n')]);
    expect(showReplies(parseReplies(wide, 1)).slice(-1)).toEqual(['$ok']);
  });
});
