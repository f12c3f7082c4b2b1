import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { compileAnchoredRegex } from './re2-regex.js';

const matches = (re: string, value: string) => compileAnchoredRegex(re).test(value);

describe('compileAnchoredRegex', () => {
  it('anchors the whole regex, including alternations', () => {
    expect(matches('foo', 'foo')).toBe(true);
    expect(matches('foo', 'xfoo')).toBe(false);
    expect(matches('foo', 'foox')).toBe(false);
    expect(matches('a|b', 'a')).toBe(true);
    expect(matches('a|b', 'ab')).toBe(false);
    expect(matches('a|bc', 'abc')).toBe(false);
  });

  it('lets . match newlines and whole code points, like (?s) in Go', () => {
    expect(matches('a.b', 'a\nb')).toBe(true);
    expect(matches('.*', 'line1\nline2')).toBe(true);
    expect(matches('^.$', '😀')).toBe(true);
    expect(matches('..', '😀')).toBe(false);
  });

  it('matches the empty string only when the regex does', () => {
    expect(matches('.*', '')).toBe(true);
    expect(matches('.+', '')).toBe(false);
    expect(matches('', '')).toBe(true);
    expect(matches('a|', '')).toBe(true);
  });

  it('translates RE2-only syntax', () => {
    expect(matches('(?P<code>\\d+)', '404')).toBe(true);
    expect(matches('(?<code>\\d+)', '404')).toBe(true);
    expect(matches('(?i)get', 'GeT')).toBe(true);
    expect(matches('(?is)a.B', 'a\nb')).toBe(true);
    expect(matches('(?s:a.)b', 'a\nb')).toBe(true);
    expect(matches('[[:digit:]]+[[:alpha:]_]', '42x')).toBe(true);
    expect(matches('[[:punct:]]', '.')).toBe(true);
    expect(matches('[[:punct:]]', 'a')).toBe(false);
    expect(matches('\\Qa.b*\\E', 'a.b*')).toBe(true);
    expect(matches('\\Qa.b*\\E', 'axbb')).toBe(false);
    expect(matches('\\Aab\\z', 'ab')).toBe(true);
    expect(matches('\\x{1F600}', '😀')).toBe(true);
    expect(matches('\\x41\\101\\0', 'AA\0')).toBe(true);
    expect(matches('\\pL+', 'Ünïcode')).toBe(true);
    expect(matches('\\p{Greek}+', 'αβγ')).toBe(true);
    expect(matches('\\P{Greek}', 'α')).toBe(false);
  });

  it('reads brackets and escaped punctuation as RE2 does', () => {
    expect(matches('a{', 'a{')).toBe(true);
    expect(matches('{foo}', '{foo}')).toBe(true);
    expect(matches('a{,2}', 'a{,2}')).toBe(true);
    expect(matches('a{2}', 'aa')).toBe(true);
    expect(matches('a]', 'a]')).toBe(true);
    expect(matches('[]a]+', ']a]')).toBe(true);
    expect(matches('[^]a]', 'b')).toBe(true);
    expect(matches('[^]a]', ']')).toBe(false);
    expect(matches('\\-\\#\\:\\"', '-#:"')).toBe(true);
    expect(matches('[\\-a]+', '-a')).toBe(true);
  });

  it('keeps \\s to ASCII whitespace like Go', () => {
    expect(matches('\\s', ' ')).toBe(true);
    expect(matches('\\s', '\u00a0')).toBe(false);
    expect(matches('\\S', '\u00a0')).toBe(true);
    expect(matches('[\\s]', '\v')).toBe(false);
  });

  it.each([
    ['(', 'unterminated group'],
    ['[a', 'missing closing ]'],
    ['a**', 'nested repetition'],
    ['(?=a)', 'lookahead'],
    ['(?<=a)b', 'lookbehind'],
    ['(a)\\1', 'backreference'],
    ['a(?i)b', 'flag group in the middle'],
    ['(?m)^a', 'multi-line flag'],
    ['\\e', 'unknown escape'],
    ['[[:^alpha:]]', 'negated POSIX class'],
    ['[[:foo:]]', 'unknown POSIX class'],
    ['a{1001}', 'repeat count above 1000'],
    ['\\', 'trailing backslash'],
  ])('rejects %j (%s) with an InvalidInputError', (re) => {
    expect(() => compileAnchoredRegex(re)).toThrow(InvalidInputError);
  });

  it('names the regex in the error', () => {
    expect(() => compileAnchoredRegex('(?=x)')).toThrow(/invalid regular expression "\(\?=x\)": lookaround/);
  });
});
