import { InvalidInputError } from '../errors.js';

/**
 * PromQL string literals: `"…"` and `'…'` with Go escapes, `` `…` `` raw. Byte escapes (`\xhh`, octal)
 * build raw bytes like in Go, so the result is decoded as UTF-8 at the end and must be valid.
 */

/** A syntax error in a selector, pointing at a 1-based column counted in code points. */
export function selectorSyntaxError(input: string, offset: number, reason: string): InvalidInputError {
  const column = [...input.slice(0, offset)].length + 1;
  return new InvalidInputError(`invalid series selector ${JSON.stringify(input)}: ${reason} at column ${column}`, [
    { where: `column ${column}`, reason },
  ]);
}

export interface StringLiteral {
  value: string;
  /** Offset just past the closing quote. */
  end: number;
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the literal whose opening quote is at `input[start]`. */
export function readStringLiteral(input: string, start: number): StringLiteral {
  const quote = input[start];
  if (quote === '`') return readRawString(input, start);
  const bytes: number[] = [];
  let pos = start + 1;
  for (;;) {
    const c = input[pos];
    if (c === undefined || c === '\n') throw selectorSyntaxError(input, start, 'unterminated quoted string');
    if (c === quote) break;
    if (c === '\\') {
      pos = readEscape(input, pos, quote, bytes);
      continue;
    }
    const codePoint = input.codePointAt(pos)!;
    pushUtf8(bytes, codePoint);
    pos += codePoint > 0xffff ? 2 : 1;
  }
  let value: string;
  try {
    value = utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw selectorSyntaxError(input, start, 'string is not valid UTF-8');
  }
  return { value, end: pos + 1 };
}

function readRawString(input: string, start: number): StringLiteral {
  const close = input.indexOf('`', start + 1);
  if (close === -1) throw selectorSyntaxError(input, start, 'unterminated raw string');
  // Go drops carriage returns from raw strings.
  return { value: input.slice(start + 1, close).replaceAll('\r', ''), end: close + 1 };
}

/** Reads the escape at `input[pos] === '\\'` into `bytes`; returns the offset after it. */
function readEscape(input: string, pos: number, quote: string, bytes: number[]): number {
  const c = input[pos + 1];
  const simple = c === undefined ? undefined : SIMPLE_ESCAPES[c];
  if (simple !== undefined) {
    bytes.push(simple);
    return pos + 2;
  }
  if (c === quote) {
    bytes.push(quote.charCodeAt(0));
    return pos + 2;
  }
  if (c === undefined) throw selectorSyntaxError(input, pos, 'unterminated quoted string');
  const numeric = NUMERIC_ESCAPES[c];
  if (numeric === undefined) throw selectorSyntaxError(input, pos, `unknown escape sequence \\${c}`);
  const digitsStart = c >= '0' && c <= '7' ? pos + 1 : pos + 2;
  const digits = input.slice(digitsStart, digitsStart + numeric.length);
  if (digits.length < numeric.length || !numeric.pattern.test(digits)) {
    throw selectorSyntaxError(input, pos, `escape sequence needs ${numeric.length} ${numeric.description} digits`);
  }
  const code = parseInt(digits, numeric.base);
  if (numeric.isByte) {
    if (code > 0xff) throw selectorSyntaxError(input, pos, 'octal escape sequence is above 255');
    bytes.push(code);
  } else {
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw selectorSyntaxError(input, pos, 'escape sequence is an invalid Unicode code point');
    }
    pushUtf8(bytes, code);
  }
  return digitsStart + numeric.length;
}

interface NumericEscape {
  length: number;
  base: number;
  pattern: RegExp;
  description: string;
  /** `\x` and octal escapes are raw bytes; `\u` / `\U` are code points. */
  isByte: boolean;
}

const OCTAL: NumericEscape = { length: 3, base: 8, pattern: /^[0-7]+$/, description: 'octal', isByte: true };
const NUMERIC_ESCAPES: Record<string, NumericEscape> = {
  ...Object.fromEntries([...'01234567'].map((d) => [d, OCTAL])),
  x: { length: 2, base: 16, pattern: /^[0-9a-fA-F]+$/, description: 'hex', isByte: true },
  u: { length: 4, base: 16, pattern: /^[0-9a-fA-F]+$/, description: 'hex', isByte: false },
  U: { length: 8, base: 16, pattern: /^[0-9a-fA-F]+$/, description: 'hex', isByte: false },
};

function pushUtf8(bytes: number[], codePoint: number): void {
  if (codePoint < 0x80) bytes.push(codePoint);
  else if (codePoint < 0x800) bytes.push(0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f));
  else if (codePoint < 0x10000) {
    bytes.push(0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f));
  } else {
    bytes.push(
      0xf0 | (codePoint >> 18),
      0x80 | ((codePoint >> 12) & 0x3f),
      0x80 | ((codePoint >> 6) & 0x3f),
      0x80 | (codePoint & 0x3f),
    );
  }
}
