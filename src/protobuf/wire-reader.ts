import { isUtf8 } from 'node:buffer';
import { InvalidInputError } from '../errors.js';
import { type BufferSlicing, internAscii, MAX_INTERNED_STRING } from './interned-strings.js';
import { WIRE_END_GROUP, WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WIRE_START_GROUP, WIRE_VARINT } from './wire-types.js';

/**
 * Protobuf wire-format reader for weir's hand-written decoders (remote write, IndexEvents),
 * reading straight from the message's bytes.
 *
 * Every read takes the end of the enclosing message, so nothing reads past a sub-message. Where the
 * wire format leaves room for interpretation (over-long varints, field number 0, groups) the
 * behaviour is the reference decoder's (protobufjs 8), so that a hand-written decoder and its
 * reference agree on every input, well-formed or not: varints of at most 10 bytes keeping the low
 * 64 bits, tags of at most 5 bytes, lengths below 2^31, strings that must be valid UTF-8.
 *
 * Failures throw InvalidInputError naming the byte offset and the field path (`timeseries[3].labels[1]`),
 * which costs nothing until then: the path is a stack of constant names and indexes.
 *
 * Its varint loops are methods of its own rather than varint.ts's functions (which are for
 * scanners holding no reader): those hand back where a varint ends through a module variable,
 * which measured slower than a field of the reader on reads done once per field.
 */

/** Nesting limit for skipped groups, protobufjs' (and protoc's) recursion limit. */
const MAX_DEPTH = 100;

const TWO_POW_32 = 4294967296;

export class WireReader {
  readonly bytes: Buffer;
  readonly view: DataView;
  private readonly slicing: BufferSlicing;
  pos = 0;
  /** The two halves of the last 64-bit varint read, as unsigned 32-bit integers. */
  private lo = 0;
  private hi = 0;
  private readonly pathNames: string[] = [];
  private readonly pathIndexes: number[] = [];
  private pathDepth = 0;

  /** `message` names the top level in error paths. */
  constructor(
    body: Uint8Array,
    private readonly message = 'request',
  ) {
    this.bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    this.slicing = this.bytes as unknown as BufferSlicing;
  }

  /** Enters a sub-message for error reporting; `index` is -1 for a non-repeated field. */
  enter(name: string, index: number): void {
    this.pathNames[this.pathDepth] = name;
    this.pathIndexes[this.pathDepth] = index;
    this.pathDepth++;
  }

  leave(): void {
    this.pathDepth--;
  }

  /** Where the reader is, e.g. `timeseries[3].labels[1]` (`request`, or the message named, at the top level). */
  where(): string {
    if (this.pathDepth === 0) return this.message;
    let path = '';
    for (let i = 0; i < this.pathDepth; i++) {
      if (i > 0) path += '.';
      path += this.pathNames[i];
      if (this.pathIndexes[i] >= 0) path += `[${this.pathIndexes[i]}]`;
    }
    return path;
  }

  fail(reason: string, at: number): never {
    const where = this.where();
    throw new InvalidInputError(`protobuf: ${reason} at byte ${at} (${where})`, [{ where, reason: `${reason} at byte ${at}` }]);
  }

  /** A field tag (field number << 3 | wire type): at most 5 bytes, fitting in 32 bits. */
  readTag(end: number): number {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    let byte = bytes[pos++];
    if (byte < 0x80) {
      this.pos = pos;
      return byte;
    }
    let tag = byte & 0x7f;
    for (let shift = 7; shift < 28; shift += 7) {
      if (pos >= end) this.fail('truncated field tag', start);
      byte = bytes[pos++];
      tag |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = pos;
        return tag >>> 0;
      }
    }
    if (pos >= end) this.fail('truncated field tag', start);
    byte = bytes[pos++];
    if (byte > 0x0f) this.fail('field tag longer than 32 bits', start);
    this.pos = pos;
    return (tag | (byte << 28)) >>> 0;
  }

  /**
   * Reads a length prefix and returns where the length-delimited field ends, checking that it
   * ends inside the enclosing message.
   */
  readDelimitedEnd(end: number): number {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    let length = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail('truncated length prefix', start);
      const byte = bytes[pos++];
      length |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.delimitedEnd(pos, length >>> 0, end, start);
    }
    if (pos >= end) this.fail('truncated length prefix', start);
    const byte = bytes[pos++];
    if (byte > 0x07) this.fail('length prefix of 2 GiB or more', start);
    return this.delimitedEnd(pos, (length | (byte << 28)) >>> 0, end, start);
  }

  private delimitedEnd(pos: number, length: number, end: number, start: number): number {
    if (length > end - pos) this.fail(`truncated length-delimited field (${length} bytes)`, start);
    this.pos = pos;
    return pos + length;
  }

  /** Reads a varint of up to 10 bytes into lo/hi, keeping its low 64 bits. */
  private readVarint64(end: number): void {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) this.fail('truncated varint', start);
      const byte = bytes[pos++];
      const bits = byte & 0x7f;
      if (i < 4) {
        lo |= bits << (7 * i);
      } else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >> 4;
      } else {
        hi |= bits << (7 * i - 32);
      }
      if (byte < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.fail('varint longer than 10 bytes', start);
  }

  /** uint32, int32 and enum fields: the low 32 bits of the varint, unsigned. */
  readUint32(end: number): number {
    const byte = this.bytes[this.pos];
    if (byte < 0x80 && this.pos < end) {
      this.pos++;
      return byte;
    }
    this.readVarint64(end);
    return this.lo;
  }

  readInt32(end: number): number {
    return this.readUint32(end) | 0;
  }

  readSint32(end: number): number {
    const zigzag = this.readUint32(end);
    return ((zigzag >>> 1) ^ -(zigzag & 1)) | 0;
  }

  /**
   * Varints of up to 7 bytes (below 2^49, e.g. today's millisecond timestamps) are exact in a
   * double and read without the 64-bit path. Returns -1 when the varint is longer.
   */
  private readShortVarint(end: number): number {
    const bytes = this.bytes;
    let pos = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7 && pos < end; i++) {
      const byte = bytes[pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.pos = pos;
        return value;
      }
      scale *= 128;
    }
    return -1;
  }

  /** int64 as a number (exact up to 2^53, like Long#toNumber beyond). */
  readInt64(end: number): number {
    const short = this.readShortVarint(end);
    if (short >= 0) return short;
    this.readVarint64(end);
    return (this.hi | 0) * TWO_POW_32 + this.lo;
  }

  readUint64(end: number): number {
    const short = this.readShortVarint(end);
    if (short >= 0) return short;
    this.readVarint64(end);
    return this.hi * TWO_POW_32 + this.lo;
  }

  readSint64(end: number): number {
    const short = this.readShortVarint(end);
    if (short >= 0) return short % 2 === 0 ? short / 2 : -(short + 1) / 2;
    this.readVarint64(end);
    const mask = -(this.lo & 1);
    const lo = (((this.lo >>> 1) | (this.hi << 31)) ^ mask) >>> 0;
    const hi = ((this.hi >>> 1) ^ mask) | 0;
    return hi * TWO_POW_32 + lo;
  }

  readDouble(end: number): number {
    const pos = this.pos;
    if (end - pos < 8) this.fail('truncated 64-bit field', pos);
    this.pos = pos + 8;
    return this.view.getFloat64(pos, true);
  }

  /** Packed doubles: the field's length must be a multiple of 8. */
  readPackedDoubles(end: number, into: number[]): void {
    const start = this.pos;
    const fieldEnd = this.readDelimitedEnd(end);
    if ((fieldEnd - this.pos) % 8 !== 0) this.fail('packed doubles not a multiple of 8 bytes', start);
    for (let pos = this.pos; pos < fieldEnd; pos += 8) into.push(this.view.getFloat64(pos, true));
    this.pos = fieldEnd;
  }

  readString(end: number): string {
    const stringEnd = this.readDelimitedEnd(end);
    const start = this.pos;
    this.pos = stringEnd;
    return this.stringAt(start, stringEnd);
  }

  /**
   * The text of `bytes[start..end)`, a string field's content found earlier: strict UTF-8 (a
   * leading BOM is kept), with fast paths for ASCII, by far the common case.
   */
  stringAt(start: number, end: number): string {
    const bytes = this.bytes;
    const length = end - start;
    if (length === 0) return '';
    if (length <= MAX_INTERNED_STRING) {
      const interned = internAscii(bytes, this.view, start, end);
      if (interned !== undefined) return interned;
    }
    for (let i = start; i < end; i++) {
      if (bytes[i] >= 0x80) {
        if (!isUtf8(bytes.subarray(start, end))) this.fail('invalid UTF-8 in string', start);
        return this.slicing.utf8Slice(start, end);
      }
    }
    return this.slicing.latin1Slice(start, end);
  }

  /**
   * Skips a field this decoder does not know, or one whose wire type is not the expected one
   * (as protobufjs does, rather than failing). `depth` is the message nesting depth.
   */
  skipField(tag: number, end: number, depth: number, tagAt: number): void {
    const fieldNumber = tag >>> 3;
    if (depth > MAX_DEPTH) this.fail('groups nested too deeply', tagAt);
    if (fieldNumber === 0) this.fail('field number 0', tagAt);
    switch (tag & 7) {
      case WIRE_VARINT: {
        // Unknown varints may be of any length (protobufjs skips them without a limit).
        const bytes = this.bytes;
        let pos = this.pos;
        do {
          if (pos >= end) this.fail('truncated varint', this.pos);
        } while (bytes[pos++] >= 0x80);
        this.pos = pos;
        return;
      }
      case WIRE_FIXED64:
        this.skipBytes(8, end);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.pos = this.readDelimitedEnd(end);
        return;
      case WIRE_START_GROUP:
        this.skipGroup(fieldNumber, end, depth);
        return;
      case WIRE_FIXED32:
        this.skipBytes(4, end);
        return;
      default:
        this.fail(`invalid wire type ${tag & 7}`, tagAt);
    }
  }

  private skipBytes(count: number, end: number): void {
    if (end - this.pos < count) this.fail(`truncated ${count * 8}-bit field`, this.pos);
    this.pos += count;
  }

  private skipGroup(fieldNumber: number, end: number, depth: number): void {
    for (;;) {
      const tagAt = this.pos;
      if (tagAt >= end) this.fail('unterminated group', tagAt);
      const tag = this.readTag(end);
      if (tag >>> 3 === 0) this.fail('field number 0', tagAt);
      if ((tag & 7) === WIRE_END_GROUP) {
        if (tag >>> 3 !== fieldNumber) this.fail('end-group tag does not match its start', tagAt);
        return;
      }
      this.skipField(tag, end, depth + 1, tagAt);
    }
  }
}
