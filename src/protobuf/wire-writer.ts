import { varintSize, writeVarint32 } from './varint.js';

/**
 * Protobuf wire-format writer for weir's hand-written encoders, writing into one buffer that a
 * caller may reuse between messages (it takes `buf` back afterwards: `reserve` may have grown it).
 *
 * Writes do not check for room: the encoder reserves a bound of what it will write first (one
 * check per message instead of one per byte). Tags are those of fields 1 to 15, one byte each.
 * A length-delimited field is opened with a few bytes reserved for its length, guessed from what
 * it usually holds, and closed when its content is written: the content moves only when the
 * guess was wrong. Values are written as protobufjs writes them, byte for byte.
 */
export class WireWriter {
  at = 0;

  constructor(public buf: Buffer) {}

  /** Room for `bytes` more, growing the buffer (and keeping what is written) if needed. */
  reserve(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  /** An unsigned 32-bit varint (a length, a uint32 value). */
  varint32(n: number): void {
    this.at = writeVarint32(this.buf, this.at, n);
  }

  /** Opens a length-delimited field: its tag and `reserve` bytes for the length; returns where content starts. */
  open(tag: number, reserve: number): number {
    this.buf[this.at++] = tag;
    this.at += reserve;
    return this.at;
  }

  /**
   * Writes the length of the content from `contentAt` on into the `reserve` bytes before it, moving
   * the content if it needs more or fewer; returns where the content starts now.
   */
  close(contentAt: number, reserve: number): number {
    const length = this.at - contentAt;
    const size = varintSize(length);
    if (size !== reserve) {
      this.buf.copyWithin(contentAt + size - reserve, contentAt, this.at);
      this.at += size - reserve;
    }
    writeVarint32(this.buf, contentAt - reserve, length);
    return contentAt + size - reserve;
  }

  /** An int64 field, left out when 0 (proto3). */
  int64Field(tag: number, n: number): void {
    if (n === 0) return;
    this.buf[this.at++] = tag;
    this.varint64(n);
  }

  /**
   * The varint of a 64-bit integer given as a number (int64, uint64), as protobufjs writes one:
   * a fraction truncated toward zero, a negative number as its 64-bit two's complement (10 bytes),
   * the rest of a number past 2^64 dropped.
   */
  varint64(n: number): void {
    if (n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n)) {
      // Past 31 bits with float arithmetic (a ms timestamp takes two steps), then with int32 ops.
      while (n > 0x7fffffff) {
        this.buf[this.at++] = (n % 128) | 0x80;
        n = Math.floor(n / 128);
      }
      this.varint32(n | 0);
      return;
    }
    splitInt64(n);
    this.varintBits(splitLo, splitHi);
  }

  /** The zigzag varint of a 64-bit integer given as a number (sint64), as protobufjs writes one. */
  zigzag64(n: number): void {
    if (Number.isInteger(n) && n >= -0x10000000000000 && n <= 0x10000000000000) {
      // Exact in a double up to here: 2|n| <= 2^53.
      this.varint64(n >= 0 ? 2 * n : -2 * n - 1);
      return;
    }
    splitInt64(n);
    const mask = splitHi >> 31;
    this.varintBits((splitLo << 1) ^ mask, ((splitHi << 1) | (splitLo >>> 31)) ^ mask);
  }

  /** A 64-bit varint from its low and high 32 bits, in as few bytes as it takes. */
  private varintBits(lo: number, hi: number): void {
    lo >>>= 0;
    hi >>>= 0;
    while (hi !== 0) {
      this.buf[this.at++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.varint32(lo);
  }

  /** An int32 (an enum value): 10 bytes when negative, as the spec and protobufjs write it. */
  int32(n: number): void {
    n |= 0;
    if (n < 0) this.varintBits(n, 0xffffffff);
    else this.varint32(n);
  }

  /** A sint32, zigzag encoded. */
  sint32(n: number): void {
    this.varint32(((n << 1) ^ (n >> 31)) >>> 0);
  }

  /** A double, 8 bytes little-endian. */
  double(n: number): void {
    this.buf.writeDoubleLE(n, this.at);
    this.at += 8;
  }

  /** A string field, left out when empty (proto3). ASCII (nearly all label text) is copied as is, with no encoder call. */
  stringField(tag: number, text: string): void {
    const units = text.length;
    if (units === 0) return;
    this.buf[this.at++] = tag;
    const lengthAt = this.at;
    this.varint32(units);
    for (let i = 0; i < units; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        this.at = lengthAt;
        const bytes = Buffer.byteLength(text, 'utf8');
        this.varint32(bytes);
        this.at += this.buf.write(text, this.at, bytes, 'utf8');
        return;
      }
      this.buf[this.at++] = c;
    }
  }

  /** Bytes as they are (an encoded field, a message part written earlier). */
  bytes(from: Uint8Array): void {
    for (let i = 0; i < from.length; i++) this.buf[this.at++] = from[i];
  }
}

/** Most bytes a string field of `text` can take (tag, length, content): a UTF-16 unit is at most 3 bytes of UTF-8. */
export const stringFieldBound = (text: string): number => 6 + 3 * text.length;

/** Most bytes an int64 field can take: tag and 10. */
export const INT64_FIELD_BOUND = 11;

/** Most bytes a varint of 64 bits takes. */
export const VARINT64_BOUND = 10;

/** Set by splitInt64: the low and high 32 bits of a 64-bit two's complement. */
let splitLo = 0;
let splitHi = 0;

/** A number's integer part as 64-bit two's complement halves, as protobufjs' LongBits.fromNumber splits it. */
function splitInt64(n: number): void {
  const negative = n < 0;
  if (negative) n = -n;
  let lo = n >>> 0;
  let hi = ((n - lo) / 4294967296) >>> 0;
  if (negative) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 0xffffffff) {
      lo = 0;
      if (++hi > 0xffffffff) hi = 0;
    }
  }
  splitLo = lo;
  splitHi = hi;
}
