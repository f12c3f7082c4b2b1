import { describe, expect, it } from 'vitest';
import { byteSize, duration, parseByteSize, parseDuration } from './units.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['250', 250],
    [42, 42],
  ])('%s → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each(['', '5x', '10 s', 'm5', '1h junk'])('refuses %j', (input) => expect(() => parseDuration(input)).toThrow(/not a duration/));
});

describe('parseByteSize', () => {
  it.each([
    ['10MiB', 10 * 1024 * 1024],
    ['512KiB', 512 * 1024],
    ['1GB', 1e9],
    ['100', 100],
    [7, 7],
  ])('%s → %d bytes', (input, bytes) => expect(parseByteSize(input)).toBe(bytes));

  it('refuses unknown units', () => expect(() => parseByteSize('3 parsecs')).toThrow(/not a size/));
});

describe('zod fields', () => {
  it('turn text into numbers and report bad text as an issue', () => {
    expect(duration().parse('2s')).toBe(2000);
    expect(byteSize().parse('1KiB')).toBe(1024);
    const bad = duration().safeParse('soon');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].message).toMatch(/not a duration/);
  });
});
