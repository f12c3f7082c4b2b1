import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../errors.js';
import { decodeWriteRequestFast } from './fast-v1.js';
import { decodeWriteRequestV1Reference, decodeWriteRequestV2Reference } from '../reference-codec.test-support.js';
import type { RemoteWriteVersion, WriteRequest } from '../types.js';

/**
 * Hand-built wire bytes for what generated requests rarely contain: unknown fields, unexpected
 * wire types, unpacked repeated fields, repeated singular fields, groups, and malformed input.
 * Every case runs through both decoders, which must agree.
 */

const VARINT = 0;
const FIXED64 = 1;
const DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

function varint(value: number | bigint): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}
const key = (field: number, wireType: number): number[] => varint((field << 3) | wireType);
const varintField = (field: number, value: number | bigint): number[] => [...key(field, VARINT), ...varint(value)];
const zigzag = (value: number): bigint => (BigInt(value) << 1n) ^ (BigInt(value) >> 63n);
const doubleBytes = (value: number): number[] => [...Buffer.from(new Float64Array([value]).buffer)];
const doubleField = (field: number, value: number): number[] => [...key(field, FIXED64), ...doubleBytes(value)];
const message = (field: number, ...parts: number[][]): number[] => {
  const payload = parts.flat();
  return [...key(field, DELIMITED), ...varint(payload.length), ...payload];
};
const stringField = (field: number, text: string): number[] => message(field, [...Buffer.from(text)]);
const body = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());

const label = (name: string, value: string): number[] => message(1, stringField(1, name), stringField(2, value));
const sample = (value: number, timestamp: number | bigint): number[] =>
  message(2, doubleField(1, value), varintField(2, timestamp));

/** Unknown fields of every wire type, including a group with nested content. */
const unknownFields = (field: number): number[] => [
  ...varintField(field, 12345678901234n),
  ...doubleField(field + 1, 1.5),
  ...stringField(field + 2, 'ignored'),
  ...key(field + 3, START_GROUP),
  ...varintField(1, 1),
  ...key(2, START_GROUP),
  ...key(2, END_GROUP),
  ...key(field + 3, END_GROUP),
  ...key(field + 4, FIXED32),
  1,
  2,
  3,
  4,
];

/** An unknown field: `depth` groups nested in each other around a varint. */
const nestedGroups = (depth: number): number[] => [
  ...Array.from({ length: depth }, () => key(9, START_GROUP)).flat(),
  ...varintField(1, 1),
  ...Array.from({ length: depth }, () => key(9, END_GROUP)).flat(),
];

/** Both decoders accept groups nested as deep as protobufjs allows at `messageDepth`, and no deeper. */
function expectGroupDepthLimit(place: (groups: number[]) => number[], messageDepth: number, version: RemoteWriteVersion, where: string): void {
  expect(() => decodeBoth(body(place(nestedGroups(100 - messageDepth))), version), where).not.toThrow();
  expect(rejectBoth(body(place(nestedGroups(101 - messageDepth))), version).message, where).toMatch(/groups nested too deeply/);
}

function decodeReference(bytes: Uint8Array, version: RemoteWriteVersion): WriteRequest {
  return version === '1.0' ? decodeWriteRequestV1Reference(bytes) : decodeWriteRequestV2Reference(bytes);
}

/** Decodes with both decoders, checks they agree, and returns the result. */
function decodeBoth(bytes: Uint8Array, version: RemoteWriteVersion = '1.0'): WriteRequest {
  const fast = decodeWriteRequestFast(bytes, version);
  expect(fast).toStrictEqual(decodeReference(bytes, version));
  return fast;
}

/** Both decoders must reject; returns the fast decoder's error for its message. */
function rejectBoth(bytes: Uint8Array, version: RemoteWriteVersion = '1.0'): InvalidInputError {
  expect(() => decodeReference(bytes, version)).toThrow(InvalidInputError);
  try {
    decodeWriteRequestFast(bytes, version);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return err as InvalidInputError;
  }
  throw new Error('the fast decoder accepted what the reference rejects');
}

describe('fast decoder, 1.0', () => {
  const plainSeries = message(1, label('__name__', 'up'), label('job', 'node'), sample(1, 1_700_000_000_000));

  it('decodes an empty body as an empty request', () => {
    expect(decodeBoth(new Uint8Array(0))).toStrictEqual({ version: '1.0', timeseries: [], metadata: [] });
  });

  it('skips unknown fields of every wire type at every level', () => {
    const withUnknowns = body(
      unknownFields(20),
      message(
        1,
        unknownFields(20),
        message(1, stringField(1, '__name__'), unknownFields(20), stringField(2, 'up')),
        message(1, stringField(1, 'job'), stringField(2, 'node')),
        message(2, unknownFields(20), doubleField(1, 1), varintField(2, 1_700_000_000_000)),
      ),
      unknownFields(40),
    );
    expect(decodeBoth(withUnknowns)).toStrictEqual(decodeBoth(body(plainSeries)));
  });

  it('skips a known field sent with another wire type, as protobufjs does', () => {
    const valueAsVarint = body(message(1, message(2, varintField(1, 5), varintField(2, 7))));
    expect(decodeBoth(valueAsVarint).timeseries[0].samples).toStrictEqual([{ value: 0, timestamp: 7 }]);
  });

  it('keeps the last value of a repeated singular field and of a oneof', () => {
    const histogram = message(
      4,
      varintField(1, 5),
      doubleField(2, 2.5),
      varintField(1, 7), // count_int again: the int wins
      doubleField(7, 0.5),
      varintField(15, 1),
      varintField(15, 2),
    );
    const [decoded] = decodeBoth(body(message(1, histogram))).timeseries[0].histograms;
    expect(decoded).toMatchObject({ count: 7, countIsFloat: false, zeroCount: 0.5, zeroCountIsFloat: true, timestamp: 2 });
  });

  it('reads repeated numbers packed and unpacked alike, in wire order', () => {
    const histogram = message(
      4,
      message(9, varint(zigzag(-1)), varint(zigzag(2))),
      varintField(9, zigzag(-3)),
      message(13, doubleBytes(1.5), doubleBytes(-0)),
      doubleField(13, Infinity),
      doubleField(16, 0.25),
      message(16, doubleBytes(0.5)),
    );
    const [decoded] = decodeBoth(body(message(1, histogram))).timeseries[0].histograms;
    expect(decoded.negativeDeltas).toStrictEqual([-1, 2, -3]);
    expect(decoded.positiveCounts).toStrictEqual([1.5, -0, Infinity]);
    expect(decoded.customValues).toStrictEqual([0.25, 0.5]);
  });

  it('reads 64-bit integers at their limits like Long#toNumber', () => {
    const timestamps = [-1, -(2 ** 53), 2 ** 53 + 2, -(2n ** 63n), 2n ** 63n - 1n, 0x7fff_ffff_ffff_ffffn];
    const decoded = decodeBoth(body(message(1, ...timestamps.map((t) => sample(0, t))))).timeseries[0].samples;
    expect(decoded.map((s) => s.timestamp)).toStrictEqual(timestamps.map((t) => Number(BigInt.asIntN(64, BigInt(t)))));
    // A 10th varint byte carrying more than the 64th bit: the extra bits are dropped by both.
    const overlong = [...key(2, VARINT), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    expect(decodeBoth(body(message(1, message(2, overlong)))).timeseries[0].samples[0].timestamp).toBe(-1);
  });

  it('reads enums and sint32 sent as 10-byte negative varints', () => {
    const histogram = message(4, varintField(14, -2), varintField(4, zigzag(-53)), message(11, varintField(1, zigzag(-7))));
    const [decoded] = decodeBoth(body(message(1, histogram))).timeseries[0].histograms;
    expect(decoded).toMatchObject({ resetHint: -2, schema: -53, positiveSpans: [{ offset: -7, length: 0 }] });
  });

  it('maps metric types, reading unknown ones as unknown', () => {
    const metadata = [0, 1, 7, 8, -1].map((type) => message(3, varintField(1, type), stringField(2, `m${type}`)));
    expect(decodeBoth(body(...metadata)).metadata.map((entry) => entry.type)).toStrictEqual([
      'unknown',
      'counter',
      'stateset',
      'unknown',
      'unknown',
    ]);
  });

  it('keeps non-ASCII strings and a leading byte-order mark as sent', () => {
    const labels = decodeBoth(body(message(1, label('\uFEFFname', 'zürich 🦀'), label('a'.repeat(200), 'é'.repeat(70)))))
      .timeseries[0].labels;
    expect(labels).toStrictEqual([
      { name: '\uFEFFname', value: 'zürich 🦀' },
      { name: 'a'.repeat(200), value: 'é'.repeat(70) },
    ]);
  });

  it('says what is wrong, at which byte and in which field', () => {
    // The second series is well-formed, but its first label claims 5 bytes where 3 are left.
    const labelLengthAt = plainSeries.length + 3;
    const error = rejectBoth(body(plainSeries, message(1, key(1, DELIMITED), [5, 0x0a, 0x01, 0x61])));
    const reason = `truncated length-delimited field (5 bytes) at byte ${labelLengthAt}`;
    expect(error.message).toBe(`protobuf: ${reason} (timeseries[1].labels[0])`);
    expect(error.details).toStrictEqual([{ where: 'timeseries[1].labels[0]', reason }]);
  });

  it('rejects malformed wire data, naming the problem', () => {
    const cases: Array<[number[], RegExp]> = [
      [[...key(1, DELIMITED), 0x80], /truncated length prefix at byte 1 \(timeseries\[0\]\)/],
      [[...key(5, VARINT), 0x80, 0x80], /truncated varint at byte 1 \(request\)/],
      [[...key(5, 6)], /invalid wire type 6 at byte 0/],
      [[...key(5, END_GROUP)], /invalid wire type 4 at byte 0/],
      [[...key(0, VARINT), 1], /field number 0 at byte 0/],
      [[0x80, 0x80, 0x80, 0x80, 0x10], /field tag longer than 32 bits at byte 0/],
      [[...key(1, DELIMITED), 0xff, 0xff, 0xff, 0xff, 0x0f], /length prefix of 2 GiB or more at byte 1/],
      [[...key(5, START_GROUP), ...varintField(1, 1)], /unterminated group/],
      [[...key(5, START_GROUP), ...key(6, END_GROUP)], /end-group tag does not match its start/],
      [message(1, message(2, [...key(2, VARINT), ...Array(10).fill(0xff), 1])), /varint longer than 10 bytes .*\(timeseries\[0\]\.samples\[0\]\)/],
      [message(1, message(2, doubleField(1, 1).slice(0, -1))), /truncated 64-bit field .*samples\[0\]/],
      [message(1, message(4, message(13, [1, 2, 3]))), /packed doubles not a multiple of 8 bytes .*histograms\[0\]/],
      [message(1, message(1, message(1, [0xc3, 0x28]))), /invalid UTF-8 in string .*timeseries\[0\]\.labels\[0\]/],
      [message(1, message(1, message(1, [0xed, 0xa0, 0x80]))), /invalid UTF-8/], // an encoded surrogate
    ];
    for (const [bytes, expected] of cases) expect(rejectBoth(body(bytes)).message).toMatch(expected);
  });

  it('limits how deeply skipped groups nest, counting the message depth, as protobufjs does', () => {
    // Where the groups sit, and how many levels of messages lie above them.
    const placements: Array<[string, (groups: number[]) => number[], number]> = [
      ['request', (groups) => groups, 0],
      ['series', (groups) => message(1, groups), 1],
      ['label', (groups) => message(1, message(1, groups)), 2],
      ['sample', (groups) => message(1, message(2, groups)), 2],
      ['exemplar', (groups) => message(1, message(3, groups)), 2],
      ['exemplar label', (groups) => message(1, message(3, message(1, groups))), 3],
      ['histogram', (groups) => message(1, message(4, groups)), 2],
      ['bucket span', (groups) => message(1, message(4, message(8, groups))), 3],
      ['metadata', (groups) => message(3, groups), 1],
    ];
    for (const [where, place, messageDepth] of placements) expectGroupDepthLimit(place, messageDepth, '1.0', where);
  });

  it('decodes labels in any field order and with repeated fields, not only in the usual form', () => {
    const labels = [
      message(1, stringField(2, 'node'), stringField(1, 'job')),
      message(1, stringField(1, 'a'), stringField(2, 'b'), stringField(1, 'c')),
      message(1, stringField(1, 'x'), stringField(2, 'y'), varintField(3, 1)),
      message(1, stringField(1, 'only-name')),
    ];
    expect(decodeBoth(body(message(1, ...labels))).timeseries[0].labels).toStrictEqual([
      { name: 'job', value: 'node' },
      { name: 'c', value: 'b' },
      { name: 'x', value: 'y' },
      { name: 'only-name', value: '' },
    ]);
    const trailingGarbage = message(1, stringField(1, 'x'), stringField(2, 'y'), key(3, 7));
    expect(rejectBoth(body(message(1, trailingGarbage))).message).toMatch(/invalid wire type 7 .*\(timeseries\[0\]\.labels\[0\]\)/);
  });
});

describe('fast decoder, 2.0', () => {
  const symbols = (...texts: string[]): number[][] => texts.map((text) => stringField(4, text));

  it('resolves references to symbols that come after the series', () => {
    const series = message(5, message(1, varint(1), varint(2)), message(2, doubleField(1, 3), varintField(2, 4)));
    const decoded = decodeBoth(body(series, ...symbols('', '__name__', 'up')), '2.0');
    expect(decoded.timeseries).toStrictEqual([
      { labels: [{ name: '__name__', value: 'up' }], samples: [{ value: 3, timestamp: 4 }], exemplars: [], histograms: [], createdTimestamp: 0 },
    ]);
  });

  it('merges repeated metadata fields and lifts the result to request metadata', () => {
    const series = message(
      5,
      varintField(1, 1),
      varintField(1, 2),
      message(5, varintField(1, 1), varintField(3, 3)),
      message(5, varintField(4, 4)),
      varintField(6, 1_600_000_000_000),
    );
    const decoded = decodeBoth(body(...symbols('', '__name__', 'requests_total', 'Requests.', 'seconds'), series), '2.0');
    expect(decoded.timeseries[0]).toMatchObject({
      metadata: { type: 'counter', help: 'Requests.', unit: 'seconds' },
      createdTimestamp: 1_600_000_000_000,
    });
    expect(decoded.metadata).toStrictEqual([
      { metricFamilyName: 'requests_total', type: 'counter', help: 'Requests.', unit: 'seconds' },
    ]);
  });

  it('reads labels_refs packed, unpacked and split over several fields', () => {
    const series = message(5, varintField(1, 1), message(1, varint(2), varint(1)), varintField(1, 2));
    const decoded = decodeBoth(body(...symbols('', 'a', 'b'), series), '2.0');
    expect(decoded.timeseries[0].labels).toStrictEqual([{ name: 'a', value: 'b' }, { name: 'a', value: 'b' }]);
  });

  it('rejects references it cannot resolve, saying where', () => {
    const table = symbols('', 'a', 'b');
    const cases: Array<[number[][], RegExp]> = [
      [[...table, message(5, message(1, varint(1)))], /odd number of label references \(1\) .*\(timeseries\[0\]\.labels_refs\)/],
      [
        [...table, message(5, message(1, varint(1), varint(2))), message(5, message(1, varint(1)))],
        /odd number of label references \(1\) .*\(timeseries\[1\]\.labels_refs\)/,
      ],
      [[...table, message(5, message(1, varint(1), varint(3)))], /symbol reference 3 out of range \(3 symbols\) .*\(timeseries\[0\]\.labels_refs\)/],
      [[...table, message(5, message(4, message(1, varint(1), varint(9))))], /out of range .*\(timeseries\[0\]\.exemplars\[0\]\.labels_refs\)/],
      [[...table, message(5, message(5, varintField(3, 3)))], /symbol reference 3 out of range .*\(timeseries\[0\]\.metadata\)/],
      [[message(5, message(5, varintField(4, 1)))], /symbol reference 1 out of range \(0 symbols\)/],
      [symbols('x', 'a'), /the first symbol must be the empty string .*\(symbols\[0\]\)/],
      [symbols('x'), /the first symbol must be the empty string/],
    ];
    for (const [parts, expected] of cases) expect(rejectBoth(body(...parts), '2.0').message).toMatch(expected);
  });

  it('limits how deeply skipped groups nest, counting the message depth', () => {
    const placements: Array<[string, (groups: number[]) => number[], number]> = [
      ['request', (groups) => groups, 0],
      ['series', (groups) => message(5, groups), 1],
      ['sample', (groups) => message(5, message(2, groups)), 2],
      ['histogram', (groups) => message(5, message(3, groups)), 2],
      ['bucket span', (groups) => message(5, message(3, message(11, groups))), 3],
      ['exemplar', (groups) => message(5, message(4, groups)), 2],
      ['metadata', (groups) => message(5, message(5, groups)), 2],
    ];
    for (const [where, place, messageDepth] of placements) expectGroupDepthLimit(place, messageDepth, '2.0', where);
  });

  it('ignores 1.0 fields, which 2.0 reserves, so a 1.0 body reads as an empty 2.0 request', () => {
    const v1Body = body(message(1, label('__name__', 'up'), sample(1, 2)));
    expect(decodeBoth(v1Body, '2.0')).toStrictEqual({ version: '2.0', timeseries: [], metadata: [] });
  });
});
