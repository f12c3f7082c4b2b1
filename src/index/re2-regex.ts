import { InvalidInputError } from '../errors.js';

/**
 * Prometheus evaluates `=~` / `!~` with Go's RE2 as `^(?s:re)$`. JavaScript's RegExp (with the `u`
 * flag, so `.` is a code point like in Go) differs from RE2 in a handful of places. This module
 * translates the RE2 syntax that has a JS equivalent and rejects what JS would silently read
 * differently (or what RE2 itself rejects, such as lookaround and backreferences), so a selector
 * never matches something other than what Prometheus would match.
 *
 * Not translated, and rejected: flag groups other than a leading `(?i)` / `(?s)` (`(?i:…)` in the
 * middle, `(?m)`, `(?U)`), negated POSIX classes `[[:^alpha:]]`.
 * Known divergence kept: `\S` inside a character class uses JS's (Unicode) notion of whitespace.
 */
export function compileAnchoredRegex(source: string): RegExp {
  const { pattern, ignoreCase } = translateRe2(source);
  try {
    return new RegExp(`^(?:${pattern})$`, ignoreCase ? 'isu' : 'su');
  } catch (err) {
    throw invalidRegex(source, (err as Error).message.replace(/^Invalid regular expression: /, ''), err);
  }
}

/** Go's `\s`: ASCII whitespace only (JS's `\s` also matches \v, NBSP, U+2028, …). */
const GO_SPACE = '\\t\\n\\f\\r ';

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '\\x21-\\x7e',
  lower: 'a-z',
  print: '\\x20-\\x7e',
  punct: '\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const SIMPLE_ESCAPES: Record<string, string> = { a: '\\x07', f: '\\f', n: '\\n', r: '\\r', t: '\\t', v: '\\v' };

const REPEAT_LIMIT = 1000;

interface Translation {
  pattern: string;
  ignoreCase: boolean;
}

function translateRe2(source: string): Translation {
  let pos = 0;
  let ignoreCase = false;
  // Only leading flag groups are supported: they apply to the whole regex, which a JS flag can express.
  for (let lead = /^\(\?([is]+)\)/.exec(source); lead; lead = /^\(\?([is]+)\)/.exec(source.slice(pos))) {
    if (lead[1].includes('i')) ignoreCase = true;
    pos += lead[0].length;
  }
  let out = '';
  while (pos < source.length) {
    const c = source[pos];
    if (c === '\\') {
      const escape = translateEscape(source, pos, false);
      out += escape.text;
      pos = escape.next;
    } else if (c === '[') {
      const cls = translateClass(source, pos);
      out += cls.text;
      pos = cls.next;
    } else if (c === '(' && source[pos + 1] === '?') {
      const group = translateGroupOpening(source, pos);
      out += group.text;
      pos = group.next;
    } else if (c === '{') {
      const repeat = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(pos));
      if (repeat) {
        const counts = [repeat[1], repeat[3]].filter((n) => n !== undefined && n !== '').map(Number);
        if (counts.some((n) => n > REPEAT_LIMIT)) throw invalidRegex(source, `repeat count above ${REPEAT_LIMIT}`);
        out += repeat[0];
        pos += repeat[0].length;
      } else {
        // RE2 reads a `{` that does not start a repetition as a literal; JS (u flag) rejects it.
        out += '\\{';
        pos += 1;
      }
    } else if (c === '}' || c === ']') {
      // Lone closing brackets are literals in RE2 and syntax errors in JS with the u flag.
      out += `\\${c}`;
      pos += 1;
    } else {
      out += c;
      pos += 1;
    }
  }
  return { pattern: out, ignoreCase };
}

interface Piece {
  text: string;
  next: number;
}

function translateGroupOpening(source: string, pos: number): Piece {
  const rest = source.slice(pos);
  if (rest.startsWith('(?:')) return { text: '(?:', next: pos + 3 };
  // Capture names are irrelevant for matching; a plain group avoids JS's stricter name rules.
  const named = /^\(\?P?<([A-Za-z0-9_]+)>/.exec(rest);
  if (named) return { text: '(?:', next: pos + named[0].length };
  if (/^\(\?(=|!|<=|<!)/.test(rest)) throw invalidRegex(source, 'lookaround is not supported by RE2');
  if (rest.startsWith('(?P=')) throw invalidRegex(source, 'backreferences are not supported by RE2');
  // `s` is always on (Prometheus wraps the regex in `(?s:…)`), so an `s`-only flag group changes nothing.
  const sOnly = /^\(\?s+(\)|:)/.exec(rest);
  if (sOnly) return { text: sOnly[1] === ':' ? '(?:' : '', next: pos + sOnly[0].length };
  const flags = /^\(\?[a-zA-Z-]*[):]?/.exec(rest)?.[0] ?? '(?';
  throw invalidRegex(source, `flag group ${flags} is only supported as a leading (?i) or (?s)`);
}

function translateClass(source: string, start: number): Piece {
  let pos = start + 1;
  let out = '[';
  if (source[pos] === '^') {
    out += '^';
    pos += 1;
  }
  // RE2 reads a `]` right after `[` or `[^` as a literal; JS would read `[]` as an empty class.
  if (source[pos] === ']') {
    out += '\\]';
    pos += 1;
  }
  while (pos < source.length) {
    const c = source[pos];
    if (c === ']') return { text: `${out}]`, next: pos + 1 };
    if (c === '[' && source[pos + 1] === ':') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(source.slice(pos));
      if (!posix) throw invalidRegex(source, 'invalid character class');
      const ranges = POSIX_CLASSES[posix[2]];
      if (ranges === undefined) throw invalidRegex(source, `unknown character class [:${posix[2]}:]`);
      if (posix[1]) throw invalidRegex(source, `negated character class [:^${posix[2]}:] is not supported`);
      out += ranges;
      pos += posix[0].length;
    } else if (c === '\\') {
      const escape = translateEscape(source, pos, true);
      out += escape.text;
      pos = escape.next;
    } else if (c === '[') {
      out += '\\[';
      pos += 1;
    } else {
      out += c;
      pos += 1;
    }
  }
  throw invalidRegex(source, 'missing closing ]');
}

/** Translates the escape at `source[pos] === '\\'`. */
function translateEscape(source: string, pos: number, inClass: boolean): Piece {
  const c = source[pos + 1];
  if (c === undefined) throw invalidRegex(source, 'trailing backslash');
  const next = pos + 2;
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return { text: simple, next };
  if ('dDwW'.includes(c)) return { text: `\\${c}`, next };
  if (c === 's') return { text: inClass ? GO_SPACE : `[${GO_SPACE}]`, next };
  if (c === 'S') return { text: inClass ? '\\S' : `[^${GO_SPACE}]`, next };
  if (!inClass) {
    if (c === 'b' || c === 'B') return { text: `\\${c}`, next };
    if (c === 'A') return { text: '^', next };
    // Without the m flag, JS's `$` is the end of input, exactly RE2's `\z`.
    if (c === 'z') return { text: '$', next };
    if (c === 'Q') return quotedLiteral(source, next);
  }
  if (c === 'x') return hexEscape(source, next);
  if (c === 'p' || c === 'P') return unicodeClass(source, next, c);
  if (c >= '0' && c <= '7') return octalEscape(source, pos + 1);
  if (/[!-/:-@[-`{-~]/.test(c)) return { text: hexCode(c.codePointAt(0)!), next };
  throw invalidRegex(source, `invalid escape sequence \\${c}`);
}

function quotedLiteral(source: string, pos: number): Piece {
  const end = source.indexOf('\\E', pos);
  const literal = end === -1 ? source.slice(pos) : source.slice(pos, end);
  const text = [...literal].map((ch) => (/[A-Za-z0-9]/.test(ch) ? ch : hexCode(ch.codePointAt(0)!))).join('');
  return { text, next: end === -1 ? source.length : end + 2 };
}

function hexEscape(source: string, pos: number): Piece {
  const braced = /^\{([0-9A-Fa-f]+)\}/.exec(source.slice(pos));
  const plain = /^[0-9A-Fa-f]{2}/.exec(source.slice(pos));
  const digits = braced?.[1] ?? plain?.[0];
  if (digits === undefined) throw invalidRegex(source, 'invalid \\x escape');
  const code = parseInt(digits, 16);
  if (code > 0x10ffff) throw invalidRegex(source, `\\x{${digits}} is beyond the Unicode range`);
  return { text: hexCode(code), next: pos + (braced ? braced[0].length : 2) };
}

/** RE2 octal: `\0`, or up to three octal digits when there are at least two; a lone `\1`–`\7` is a backreference. */
function octalEscape(source: string, digitsStart: number): Piece {
  const digits = /^[0-7]{1,3}/.exec(source.slice(digitsStart))![0];
  if (digits.length === 1 && digits !== '0') throw invalidRegex(source, 'backreferences are not supported by RE2');
  return { text: hexCode(parseInt(digits, 8)), next: digitsStart + digits.length };
}

/** `\pL`, `\p{Greek}`, `\p{^Lu}`: RE2 names scripts bare, JS needs `Script=` for them. */
function unicodeClass(source: string, pos: number, letter: 'p' | 'P'): Piece {
  const braced = /^\{(\^?)([A-Za-z_]+)\}/.exec(source.slice(pos));
  const single = /^[A-Za-z]/.exec(source.slice(pos));
  if (!braced && !single) throw invalidRegex(source, `invalid \\${letter} escape`);
  const negated = braced?.[1] === '^';
  const name = braced ? braced[2] : single![0];
  const isCategory = /^[A-Z][a-z]?$/.test(name) || name === 'Any';
  const jsLetter = negated === (letter === 'p') ? 'P' : 'p';
  return { text: `\\${jsLetter}{${isCategory ? name : `Script=${name}`}}`, next: pos + (braced ? braced[0].length : 1) };
}

function hexCode(code: number): string {
  return `\\u{${code.toString(16)}}`;
}

function invalidRegex(source: string, reason: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError(`invalid regular expression ${JSON.stringify(source)}: ${reason}`, [
    { where: `regex ${JSON.stringify(source)}`, reason },
  ], { cause });
}
