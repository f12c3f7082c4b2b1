import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { WireReader } from './wire-reader.js';
import { INT64_FIELD_BOUND, stringFieldBound, WireWriter } from './wire-writer.js';
import { WIRE_LENGTH_DELIMITED, WIRE_VARINT, tag } from './wire-types.js';

const INT64 = tag(1, WIRE_VARINT);
const STRING = tag(2, WIRE_LENGTH_DELIMITED);
const MESSAGE = tag(3, WIRE_LENGTH_DELIMITED);

const written = (w: WireWriter) => Buffer.from(w.buf.subarray(0, w.at));

describe('WireWriter', () => {
  it('writes int64 and string fields byte for byte as protobufjs, leaving out zero values as proto3 does', () => {
    const int64 = fc.oneof(fc.maxSafeInteger(), fc.constantFrom(0, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, -(2 ** 53) + 1, 1_700_000_000_123));
    fc.assert(
      fc.property(int64, fc.string({ unit: 'grapheme' }), (n, text) => {
        const w = new WireWriter(Buffer.alloc(INT64_FIELD_BOUND + stringFieldBound(text)));
        w.int64Field(INT64, n);
        w.stringField(STRING, text);
        const expected = protobuf.Writer.create();
        if (n !== 0) expected.uint32(INT64).int64(n);
        if (text !== '') expected.uint32(STRING).string(text);
        expect(written(w)).toEqual(Buffer.from(expected.finish()));
        // And WireReader reads them back.
        const r = new WireReader(written(w));
        const end = r.bytes.length;
        if (n !== 0) {
          expect(r.readTag(end)).toBe(INT64);
          expect(r.readInt64(end)).toBe(n);
        }
        if (text !== '') {
          expect(r.readTag(end)).toBe(STRING);
          expect(r.readString(end)).toBe(text);
        }
        expect(r.pos).toBe(end);
      }),
    );
  });

  it('writes an int64 that is not an integer truncated toward zero, as protobufjs reads it back', () => {
    const w = new WireWriter(Buffer.alloc(2 * INT64_FIELD_BOUND));
    w.int64Field(INT64, 2.7);
    w.int64Field(INT64, -2.7);
    const read = protobuf.Reader.create(written(w));
    expect([read.uint32(), Number(read.int64()), read.uint32(), Number(read.int64())]).toEqual([INT64, 2, INT64, -2]);
    expect(read.pos).toBe(read.len);
  });

  it('writes 64-bit, 32-bit and double values byte for byte as protobufjs, whatever the number', () => {
    const wide = fc.oneof(
      fc.maxSafeInteger(),
      fc.integer(),
      fc.double(),
      fc.constantFrom(0, -0, 2 ** 52, -(2 ** 52), 2 ** 53, 2 ** 62, -(2 ** 63), 2 ** 64, 2 ** 70, -(2 ** 70), 2.5, -2.5, NaN, Infinity),
    );
    fc.assert(
      fc.property(wide, fc.integer(), (n, i) => {
        const w = new WireWriter(Buffer.alloc(64));
        w.varint64(n);
        w.zigzag64(n);
        w.int32(i);
        w.sint32(i);
        w.double(n);
        const expected = protobuf.Writer.create().uint64(n).sint64(n).int32(i).sint32(i).double(n);
        expect(written(w)).toEqual(Buffer.from(expected.finish()));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the length of a field it opened once its content is known, moving the content when the reserve was wrong', () => {
    for (const [contentBytes, reserve] of [[0, 1], [5, 1], [127, 1], [128, 1], [20_000, 1], [5, 2], [300, 2], [20_000, 2], [5, 3]]) {
      const text = 'x'.repeat(contentBytes);
      const w = new WireWriter(Buffer.alloc(16 + contentBytes + 8));
      w.reserve(1 + reserve + stringFieldBound(text));
      const contentAt = w.open(MESSAGE, reserve);
      // A nested message around the string, its length guessed at one byte.
      const innerAt = w.open(MESSAGE, 1);
      w.stringField(STRING, text);
      w.close(innerAt, 1);
      const movedTo = w.close(contentAt, reserve);
      const inner = protobuf.Writer.create();
      if (text !== '') inner.uint32(STRING).string(text);
      const expected = protobuf.Writer.create().uint32(MESSAGE).fork().uint32(MESSAGE).bytes(inner.finish()).ldelim();
      expect(written(w)).toEqual(Buffer.from(expected.finish()));
      expect(w.buf[movedTo]).toBe(MESSAGE); // where the content starts now
    }
  });

  it('grows its buffer on reserve, keeping what it wrote', () => {
    const w = new WireWriter(Buffer.alloc(4));
    w.reserve(3);
    w.varint32(300);
    w.bytes(Uint8Array.from([7]));
    w.reserve(1000);
    expect(w.buf.length).toBeGreaterThanOrEqual(1003);
    w.stringField(STRING, 'a'.repeat(900));
    expect(written(w).subarray(0, 3)).toEqual(Buffer.from([0xac, 0x02, 7]));
    expect(written(w).length).toBe(3 + 1 + 2 + 900);
    const untouched = new WireWriter(Buffer.alloc(8));
    const before = untouched.buf;
    untouched.reserve(8);
    expect(untouched.buf).toBe(before);
  });
});
