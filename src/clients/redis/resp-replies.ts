/**
 * RESP2 replies read in place: values are offsets into the bytes read, never copies, so a pipeline of
 * thousands of replies costs no object per reply.
 */

/** RESP type bytes. */
export const RESP = { simple: 0x2b, error: 0x2d, integer: 0x3a, bulk: 0x24, array: 0x2a } as const;

/**
 * The replies to one pipeline as a flat list of values in reading order: each top-level reply,
 * an array's elements right after the array's own value. Per value its type byte and:
 * simple/error/integer/bulk: `start`..`end` in `data` (a nil bulk: both -1);
 * array: `start` = its element count (-1 for a nil array), `end` unused.
 */
export class RespReplies {
  constructor(
    readonly data: Buffer,
    readonly types: Uint8Array,
    readonly starts: Int32Array,
    readonly ends: Int32Array,
    readonly values: number,
  ) {}

  /** Value `i` as an integer (an integer reply), or NaN. */
  integer(i: number): number {
    if (this.types[i] !== RESP.integer) return NaN;
    return readInteger(this.data, this.starts[i], this.ends[i]);
  }

  /** The index of the value after value `i` and, for an array, all its elements (nested too). */
  next(i: number): number {
    if (this.types[i] !== RESP.array) return i + 1;
    let v = i + 1;
    for (let e = 0; e < this.starts[i]; e++) v = this.next(v);
    return v;
  }

  /** Value `i` as text (an error's message, a status), '' for nil or an array. */
  text(i: number): string {
    return this.starts[i] < 0 || this.types[i] === RESP.array ? '' : this.data.toString('latin1', this.starts[i], this.ends[i]);
  }
}

/** What `ParsedValues.parseUntil` returns when the bytes end before the replies do. */
export const INCOMPLETE = -1;
/** What `ParsedValues.parseUntil` returns for bytes that are not RESP. */
export const MALFORMED = -2;
/** Arrays nest this deep at most (Redis' own replies: 2 or 3); deeper is malformed, not a stack overflow. */
const MAX_DEPTH = 16;

/** The first `replies` replies in `data`, which must hold them all (for tests and fakes). */
export function parseReplies(data: Buffer, replies: number): RespReplies {
  const parsed = new ParsedValues();
  const end = parsed.parseUntil(data, replies);
  if (end < 0) throw new Error(end === INCOMPLETE ? `redis: ${parsed.topLevel} of ${replies} replies complete` : 'redis: malformed reply');
  return parsed.replies(data.subarray(0, end));
}

/** The values of one pipeline's replies parsed so far (growable columns). */
export class ParsedValues {
  types = new Uint8Array(64);
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  count = 0;
  /** Top-level replies complete, and where the next one starts. */
  topLevel = 0;
  end = 0;

  /**
   * Parses on from `end` until `data` holds `replies` complete top-level replies; returns where they
   * end, INCOMPLETE when `data` ends first (the complete ones are kept: call again with more bytes),
   * or MALFORMED.
   */
  parseUntil(data: Buffer, replies: number): number {
    while (this.topLevel < replies) {
      const next = parseValue(data, this.end, this, 0);
      if (next < 0) return next;
      this.end = next;
      this.topLevel++;
    }
    return this.end;
  }

  push(type: number, start: number, end: number): void {
    if (this.count === this.types.length) {
      const grow = <T extends Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.types = grow(this.types, (n) => new Uint8Array(n));
      this.starts = grow(this.starts, (n) => new Int32Array(n));
      this.ends = grow(this.ends, (n) => new Int32Array(n));
    }
    this.types[this.count] = type;
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }

  replies(data: Buffer): RespReplies {
    return new RespReplies(data, this.types, this.starts, this.ends, this.count);
  }
}

/**
 * Parses the value at `pos` into `out`; returns where the next one starts, INCOMPLETE when `buf`
 * ends first (nothing of it is kept), or MALFORMED.
 */
function parseValue(buf: Buffer, pos: number, out: ParsedValues, depth: number): number {
  if (pos >= buf.length) return INCOMPLETE;
  const type = buf[pos];
  // A loop, not indexOf: lines here are a few bytes, shorter than a native call costs.
  let lf = pos + 1;
  while (lf < buf.length && buf[lf] !== 0x0a) lf++;
  if (lf === buf.length) return INCOMPLETE;
  if (buf[lf - 1] !== 0x0d) return MALFORMED;
  const lineEnd = lf - 1;
  switch (type) {
    case RESP.simple:
    case RESP.error:
    case RESP.integer:
      out.push(type, pos + 1, lineEnd);
      return lf + 1;
    case RESP.bulk: {
      const length = readInteger(buf, pos + 1, lineEnd);
      if (Number.isNaN(length) || length < -1) return MALFORMED;
      if (length === -1) {
        out.push(type, -1, -1);
        return lf + 1;
      }
      const end = lf + 1 + length;
      if (end + 2 > buf.length) return INCOMPLETE;
      if (buf[end] !== 0x0d || buf[end + 1] !== 0x0a) return MALFORMED;
      out.push(type, lf + 1, end);
      return end + 2;
    }
    case RESP.array: {
      const elements = readInteger(buf, pos + 1, lineEnd);
      if (Number.isNaN(elements) || elements < -1 || (elements > 0 && depth === MAX_DEPTH)) return MALFORMED;
      const mark = out.count;
      out.push(type, elements, 0);
      let next = lf + 1;
      for (let i = 0; i < elements; i++) {
        next = parseValue(buf, next, out, depth + 1);
        if (next < 0) {
          out.count = mark;
          return next;
        }
      }
      return next;
    }
    default:
      return MALFORMED;
  }
}

/** A decimal integer (optionally negative) in `buf[start..end)`, NaN if it is not one. */
export function readInteger(buf: Buffer, start: number, end: number): number {
  if (start >= end) return NaN;
  let negative = false;
  let i = start;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
    if (i === end) return NaN;
  }
  let value = 0;
  for (; i < end; i++) {
    const digit = buf[i] - 0x30;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}
