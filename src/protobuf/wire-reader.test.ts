import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { WireReader } from './wire-reader.js';
import { WIRE_END_GROUP, WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WIRE_START_GROUP, WIRE_VARINT, tag } from './wire-types.js';

/** Varint bytes of a value taken as 64-bit two's complement. */
function varint(value: number | bigint): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  for (; rest >= 0x80n; rest >>= 7n) out.push(Number(rest & 0x7fn) | 0x80);
  out.push(Number(rest));
  return out;
}

const reader = (...bytes: number[]) => new WireReader(Uint8Array.from(bytes));

/** The InvalidInputError `read` throws. */
function failure(read: () => unknown): InvalidInputError {
  try {
    read();
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error('did not fail');
}

/** protobufjs' reading of the same bytes: the reference every read is held to. */
const reference = (bytes: number[]) => protobuf.Reader.create(Uint8Array.from(bytes));
const toNumber = (long: unknown) => (typeof long === 'number' ? long : (long as { toNumber(): number }).toNumber());

describe('WireReader', () => {
  it('reads tags of 1 to 5 bytes, up to 32 bits', () => {
    for (const value of [0x08, 0x7f, 0x80, 0x3fff, 0x4000, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 0xffffffff]) {
      const bytes = varint(value);
      const r = reader(...bytes, 0x01);
      expect(r.readTag(bytes.length + 1)).toBe(value);
      expect(r.pos).toBe(bytes.length);
    }
    expect(failure(() => reader(0x80, 0x80, 0x80, 0x80, 0x10).readTag(5)).message).toBe('protobuf: field tag longer than 32 bits at byte 0 (request)');
    expect(failure(() => reader(0x80, 0x80, 0x80, 0x80, 0x80, 0x01).readTag(6)).message).toMatch(/field tag longer than 32 bits/);
    for (const cut of [1, 2, 3, 4]) expect(failure(() => reader(0x80, 0x80, 0x80, 0x80, 0x01).readTag(cut)).message).toMatch(/truncated field tag at byte 0/);
  });

  it('reads length prefixes below 2^31 that end inside the enclosing message', () => {
    const r = reader(0x03, 0x61, 0x62, 0x63, 0x99);
    expect(r.readDelimitedEnd(5)).toBe(4);
    expect(r.pos).toBe(1);
    expect(failure(() => reader(0x03, 0x61, 0x62, 0x63).readDelimitedEnd(3)).message).toMatch(/truncated length-delimited field \(3 bytes\) at byte 0/);
    expect(failure(() => reader(...varint(2 ** 31 - 1)).readDelimitedEnd(5)).message).toMatch(/truncated length-delimited field \(2147483647 bytes\)/);
    expect(failure(() => reader(...varint(2 ** 31)).readDelimitedEnd(5)).message).toMatch(/length prefix of 2 GiB or more at byte 0/);
    expect(failure(() => reader(0x80, 0x80).readDelimitedEnd(2)).message).toMatch(/truncated length prefix at byte 0/);
    expect(failure(() => reader(0x80, 0x80, 0x80, 0x80).readDelimitedEnd(4)).message).toMatch(/truncated length prefix/);
  });

  it('reads 64-bit varints of up to 10 bytes as protobufjs does', () => {
    const int64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(0n, -1n, 2n ** 49n - 1n, 2n ** 49n, 2n ** 53n + 1n, -(2n ** 63n)));
    fc.assert(
      fc.property(int64, (value) => {
        const bytes = varint(value);
        const zigzag = (BigInt.asUintN(64, value) << 1n) ^ (value < 0n ? 2n ** 64n - 1n : 0n);
        const zigzagBytes = varint(BigInt.asUintN(64, zigzag));
        expect(reader(...bytes).readInt64(bytes.length)).toBe(toNumber(reference(bytes).int64()));
        expect(reader(...bytes).readUint64(bytes.length)).toBe(toNumber(reference(bytes).uint64()));
        expect(reader(...bytes).readInt32(bytes.length)).toBe(reference(bytes).int32());
        expect(reader(...bytes).readUint32(bytes.length)).toBe(reference(bytes).uint32());
        expect(reader(...zigzagBytes).readSint64(zigzagBytes.length)).toBe(toNumber(reference(zigzagBytes).sint64()));
        expect(reader(...zigzagBytes).readSint32(zigzagBytes.length)).toBe(reference(zigzagBytes).sint32());
      }),
    );
    // A 10th byte keeps only its lowest bit, as in protobufjs; an 11th is an error.
    const tenBytes = [...Array(9).fill(0xff), 0x7f];
    expect(reader(...tenBytes).readInt64(10)).toBe(-1);
    expect(failure(() => reader(...Array(10).fill(0xff), 0x01).readInt64(11)).message).toMatch(/varint longer than 10 bytes at byte 0/);
    expect(failure(() => reader(0xff, 0xff).readInt64(2)).message).toMatch(/truncated varint at byte 0/);
  });

  it('reads strict UTF-8 strings, ASCII or not, keeping a byte-order mark', () => {
    for (const text of ['', 'up', 'x'.repeat(97), 'é€😀', '\ufeffbom']) {
      const content = [...Buffer.from(text)];
      const r = reader(...varint(content.length), ...content);
      expect(r.readString(r.bytes.length)).toBe(text);
      expect(r.pos).toBe(r.bytes.length);
    }
    expect(reader(0x61, 0xc3, 0xa9).stringAt(0, 3)).toBe('aé');
    expect(failure(() => reader(0x02, 0xc3, 0x28).readString(3)).message).toMatch(/invalid UTF-8 in string at byte 1/);
    expect(failure(() => reader(0x03, 0xed, 0xa0, 0x80).readString(4)).message).toMatch(/invalid UTF-8/); // an encoded surrogate
  });

  it('skips each wire type to the end of its field, varints of any length included', () => {
    const fields: number[][] = [
      [...varint(tag(1, WIRE_VARINT)), ...Array(12).fill(0xff), 0x01], // longer than any varint protobufjs reads, but skipped as it skips
      [...varint(tag(2, WIRE_FIXED64)), 1, 2, 3, 4, 5, 6, 7, 8],
      [...varint(tag(3, WIRE_LENGTH_DELIMITED)), 2, 0xaa, 0xbb],
      [...varint(tag(4, WIRE_START_GROUP)), ...varint(tag(1, WIRE_VARINT)), 1, ...varint(tag(4, WIRE_END_GROUP))],
      [...varint(tag(5, WIRE_FIXED32)), 1, 2, 3, 4],
    ];
    for (const field of fields) {
      const r = reader(...field, 0x99);
      const fieldTag = r.readTag(field.length);
      r.skipField(fieldTag, field.length, 0, 0);
      expect(r.pos).toBe(field.length);
    }
  });

  it('rejects what protobufjs rejects when skipping: truncation, field 0, stray wire types', () => {
    const skip = (...bytes: number[]) =>
      failure(() => {
        const r = reader(...bytes);
        r.skipField(r.readTag(bytes.length), bytes.length, 0, 0);
      }).message;
    expect(skip(...varint(tag(1, WIRE_VARINT)), 0x80, 0x80)).toMatch(/truncated varint at byte 1/);
    expect(skip(...varint(tag(1, WIRE_FIXED64)), 1, 2, 3)).toMatch(/truncated 64-bit field at byte 1/);
    expect(skip(...varint(tag(1, WIRE_FIXED32)), 1, 2, 3)).toMatch(/truncated 32-bit field at byte 1/);
    expect(skip(...varint(tag(1, WIRE_LENGTH_DELIMITED)), 5, 1)).toMatch(/truncated length-delimited field/);
    expect(skip(...varint(tag(0, WIRE_VARINT)), 1)).toMatch(/field number 0 at byte 0/);
    for (const wireType of [WIRE_END_GROUP, 6, 7]) expect(skip(...varint(tag(1, wireType)))).toMatch(new RegExp(`invalid wire type ${wireType} at byte 0`));
    // Groups: ended by an end-group tag of their own field number, inside the enclosing message.
    expect(skip(...varint(tag(4, WIRE_START_GROUP)), ...varint(tag(1, WIRE_VARINT)), 1)).toMatch(/unterminated group at byte 3/);
    expect(skip(...varint(tag(4, WIRE_START_GROUP)), ...varint(tag(5, WIRE_END_GROUP)))).toMatch(/end-group tag does not match its start at byte 1/);
    expect(skip(...varint(tag(4, WIRE_START_GROUP)), ...varint(tag(0, WIRE_END_GROUP)))).toMatch(/field number 0 at byte 1/);
  });

  it('skips groups nested up to the recursion limit, counting the message depth', () => {
    const nested = (n: number) => [...Array(n).fill(tag(9, WIRE_START_GROUP)), ...Array(n).fill(tag(9, WIRE_END_GROUP))];
    const skips = (n: number, depth: number) => {
      const bytes = nested(n);
      const r = reader(...bytes);
      r.skipField(r.readTag(bytes.length), bytes.length, depth, 0);
      return r.pos === bytes.length;
    };
    expect(skips(101, 0)).toBe(true);
    expect(failure(() => skips(102, 0)).message).toMatch(/groups nested too deeply/);
    expect(skips(99, 2)).toBe(true);
    expect(failure(() => skips(100, 2)).message).toMatch(/groups nested too deeply/);
  });

  it('names the byte and the field path where it fails', () => {
    const r = new WireReader(Uint8Array.from([0x80]), 'IndexEvents');
    expect(failure(() => r.readTag(1)).details).toStrictEqual([{ where: 'IndexEvents', reason: 'truncated field tag at byte 0' }]);
    r.enter('series', 3);
    r.enter('labels', 1);
    expect(failure(() => r.readTag(1)).message).toBe('protobuf: truncated field tag at byte 0 (series[3].labels[1])');
    r.leave();
    r.enter('metadata', -1);
    expect(r.where()).toBe('series[3].metadata');
  });
});
