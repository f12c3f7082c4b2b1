import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { parseSeriesSelector } from './selector.js';

/** `[name, type, value]` triples, to compare without the `matches` functions. */
const parsed = (input: string) => parseSeriesSelector(input).map((m) => [m.name, m.type, m.value]);

function parseError(input: string): InvalidInputError {
  try {
    parseSeriesSelector(input);
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseSeriesSelector: valid selectors', () => {
  it.each([
    ['up', [['__name__', '=', 'up']]],
    ['  job:rate5m:sum ', [['__name__', '=', 'job:rate5m:sum']]],
    ['up{}', [['__name__', '=', 'up']]],
    ['up{job="x"}', [['__name__', '=', 'up'], ['job', '=', 'x']]],
    ['{__name__=~".+"}', [['__name__', '=~', '.+']]],
    ['{job!="", instance!~"a.*"}', [['job', '!=', ''], ['instance', '!~', 'a.*']]],
    ['up { job = "x" , }', [['__name__', '=', 'up'], ['job', '=', 'x']]],
    ['up{\n\tjob="x"\r\n}', [['__name__', '=', 'up'], ['job', '=', 'x']]],
    ['{"my.metric", "a.b"="c"}', [['__name__', '=', 'my.metric'], ['a.b', '=', 'c']]],
    ['{"a.b"="c", "my.metric"}', [['a.b', '=', 'c'], ['__name__', '=', 'my.metric']]],
    ["{'my.metric'}", [['__name__', '=', 'my.metric']]],
    ['{__name__="a", __name__=~"a|b"}', [['__name__', '=', 'a'], ['__name__', '=~', 'a|b']]],
    ['{by="x", and="y", offset="z"}', [['by', '=', 'x'], ['and', '=', 'y'], ['offset', '=', 'z']]],
  ])('%s', (input, expected) => {
    expect(parsed(input)).toEqual(expected);
  });
});

describe('parseSeriesSelector: string literals', () => {
  const value = (literal: string) => parseSeriesSelector(`{a=${literal}}`)[0].value;

  it('reads Go escapes in double- and single-quoted strings', () => {
    expect(value('"a\\"b\\\\c\\n\\t"')).toBe('a"b\\c\n\t');
    expect(value("'it\\'s'")).toBe("it's");
    expect(value('"\\a\\b\\f\\r\\v"')).toBe('\x07\b\f\r\v');
    expect(value('"\\u00e9\\U0001F600"')).toBe('é😀');
    expect(value('"\\xc3\\xa9"')).toBe('é');
    expect(value('"\\303\\251"')).toBe('é');
    expect(value('"'.concat("'", '"'))).toBe("'");
    expect(value('"ü😀"')).toBe('ü😀');
  });

  it('reads backtick strings raw, dropping carriage returns like Go', () => {
    expect(value('`a\\nb"c`')).toBe('a\\nb"c');
    expect(value('`line1\r\nline2`')).toBe('line1\nline2');
  });

  it('keeps a regex escape through string unquoting', () => {
    const [m] = parseSeriesSelector('{a=~"a\\\\.b"}');
    expect(m.value).toBe('a\\.b');
    expect(m.matches('a.b')).toBe(true);
    expect(m.matches('axb')).toBe(false);
  });
});

describe('parseSeriesSelector: errors say what and where', () => {
  it.each([
    ['', 'expected a metric name or "{" but found end of input', 1],
    ['{}', 'at least one matcher that does not match the empty string', 1],
    ['{a=""}', 'at least one matcher that does not match the empty string', 1],
    ['{a=~".*"}', 'at least one matcher that does not match the empty string', 1],
    ['up{job="x"', 'expected "," or "}" but found end of input', 11],
    ['up{job=}', 'expected a quoted string but found "}"', 8],
    ['up{job}', 'expected one of "=", "!=", "=~", "!~" but found "}"', 7],
    ['up{job=="x"}', 'expected a quoted string but found "="', 8],
    ['up{,}', 'expected a label name but found ","', 4],
    ['up{1a="x"}', 'expected a label name but found "1"', 4],
    ['up{job="x" instance="y"}', 'expected "," or "}" but found "i"', 12],
    ['up}', 'unexpected "}"', 3],
    ['up{} x', 'unexpected "x"', 6],
    ['1up', 'expected a metric name or "{" but found "1"', 1],
    ['"my.metric"', 'expected a metric name or "{" but found "\\""', 1],
    ['up{job="x}', 'unterminated quoted string', 8],
    ['up{job="x\ny"}', 'unterminated quoted string', 8],
    ['up{job=`x}', 'unterminated raw string', 8],
    ['up{job="\\q"}', 'unknown escape sequence \\q', 9],
    ["up{job=\"\\'\"}", "unknown escape sequence \\'", 9],
    ['up{job="\\x4"}', 'escape sequence needs 2 hex digits', 9],
    ['up{job="\\400"}', 'octal escape sequence is above 255', 9],
    ['up{job="\\ud800"}', 'invalid Unicode code point', 9],
    ['up{job="\\xff"}', 'string is not valid UTF-8', 8],
    ['up{job=~"("}', 'invalid regular expression "("', 9],
    ['up{__name__="x"}', 'metric name must not be set twice', 4],
    ['{"a", "b"}', 'metric name must not be set twice', 7],
    ['up{"x"}', 'metric name must not be set twice', 4],
    ['{""="x"}', 'label name must not be empty', 2],
    ['{""}', 'metric name must not be empty', 2],
    ['{"😀"="x", b=~"("}', 'invalid regular expression', 14],
  ])('%j → %s at column %i', (input, reason, column) => {
    const err = parseError(input);
    expect(err.message).toContain(reason);
    expect(err.message).toContain(`at column ${column}`);
    expect(err.details).toEqual([{ where: `column ${column}`, reason: expect.stringContaining(reason) }]);
  });

  it('is an HTTP 400 error that quotes the selector', () => {
    const err = parseError('up{');
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/^invalid series selector "up\{": /);
  });
});
