import { RESP } from './resp-replies.js';

/**
 * Writes RESP into a buffer sized up front: the caller bounds its output (an overflow throws in
 * `done`, never sends a cut command). Byte loops throughout: hot-path commands are short.
 */
export class RespWriter {
  private readonly out: Buffer;
  private at = 0;

  constructor(capacity: number) {
    this.out = Buffer.allocUnsafe(Math.ceil(capacity));
  }

  /** Byte loops, not Buffer.copy: these are a few bytes each, and copy() costs more to call. */
  raw(bytes: Buffer): void {
    this.span(bytes, 0, bytes.length);
  }

  byte(b: number): void {
    this.out[this.at++] = b;
  }

  crlf(): void {
    this.out[this.at++] = 0x0d;
    this.out[this.at++] = 0x0a;
  }

  /** `<type><n>\r\n` (an array's or a bulk string's header). */
  header(type: number, n: number): void {
    this.out[this.at++] = type;
    this.digits(n);
    this.crlf();
  }

  /** `bytes[start..end)` as a bulk string. */
  bulk(bytes: Buffer, start: number, end: number): void {
    this.header(0x24, end - start);
    this.span(bytes, start, end);
    this.crlf();
  }

  /** A non-negative integer as a bulk string. */
  decimal(n: number): void {
    const text = String(n);
    this.header(0x24, text.length);
    this.out.write(text, this.at, 'latin1');
    this.at += text.length;
    this.crlf();
  }

  done(): Buffer {
    // Writes past the end are dropped silently (indexing) or cut short (copy): never send those.
    if (this.at > this.out.length) throw new RangeError(`redis: commands outgrew their buffer (${this.at} > ${this.out.length})`);
    return this.out.subarray(0, this.at);
  }

  private span(bytes: Buffer, start: number, end: number): void {
    const out = this.out;
    let at = this.at;
    for (let i = start; i < end; i++) out[at++] = bytes[i];
    this.at = at;
  }

  private digits(n: number): void {
    if (n >= 10) this.digits(Math.floor(n / 10));
    this.out[this.at++] = 0x30 + (n % 10);
  }
}

/** One command as RESP (for the rare ones; the hot path writes its own with RespWriter). */
export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const bytes = args.map((arg) => (typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg));
  // Per argument its bytes and a header of at most 14 (`$` 11 digits CRLF) plus CRLF.
  const out = new RespWriter(16 + bytes.reduce((n, b) => n + b.length + 16, 0));
  out.header(RESP.array, bytes.length);
  for (const b of bytes) out.bulk(b, 0, b.length);
  return out.done();
}
