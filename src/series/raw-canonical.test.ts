import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashHigh, hashLow, seriesHash } from './series-hash.js';
import { SeriesCanonicalizer } from './canonicalize.js';
import { decodeWriteRequestFast } from '../remote-write/decode/fast-v1.js';
import { RawCanonicalizer } from './raw-canonical.js';
import { scanWriteRequestV1 } from '../remote-write/decode/raw-v1.js';
import { DEFAULT_SERIES_RULES, type SeriesRules } from './validation.js';

/**
 * The raw path against the full one (decode, canonicalLabels, validate, seriesHash) on the same
 * bytes: whenever it answers, it answers the same hash for a series the full path finds valid; it
 * declines only what is not canonical and valid as sent.
 */

interface RawLabel {
  name: string;
  value: string;
  /** Write an empty name/value as a zero-length field instead of leaving the field out. */
  explicitEmpty?: boolean;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const field = (tag: number, bytes: number[]): number[] => [tag, ...varint(bytes.length), ...bytes];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** One remote-write 1.0 body with one series: these labels, then one sample at t=1000. */
function body(labels: RawLabel[]): Uint8Array {
  const series: number[] = [];
  for (const l of labels) {
    const label: number[] = [];
    if (l.name !== '' || l.explicitEmpty) label.push(...field(0x0a, ascii(l.name)));
    if (l.value !== '' || l.explicitEmpty) label.push(...field(0x12, ascii(l.value)));
    series.push(...field(0x0a, label));
  }
  series.push(...field(0x12, [0x10, ...varint(1000)]));
  return Uint8Array.from(field(0x0a, series));
}

/** The raw path's answer: the hash as halves, or undefined when it declines. */
function rawOutcome(bytes: Uint8Array, rules: SeriesRules): { hi: number; lo: number } | undefined {
  const req = scanWriteRequestV1(bytes);
  expect(req).toBeDefined();
  const raw = new RawCanonicalizer(rules);
  return raw.hash(req!.bytes, new DataView(req!.bytes.buffer, req!.bytes.byteOffset, req!.bytes.byteLength), req!.bounds[0], req!.bounds[1]) ? { hi: raw.hi, lo: raw.lo } : undefined;
}

function expectAgreement(labels: RawLabel[], rules: SeriesRules): void {
  const bytes = body(labels);
  const raw = rawOutcome(bytes, rules);
  const decoded = decodeWriteRequestFast(bytes, '1.0');
  const plain = new SeriesCanonicalizer(rules).canonicalize(decoded, 0);
  const sent = decoded.timeseries[0].labels;
  const canonicalAsSent = sent.every((l, i) => l.value !== '' && (i === 0 || sent[i - 1].name < l.name));
  const label = JSON.stringify({ labels, rules });
  if (raw !== undefined) {
    expect(plain.invalid, label).toEqual([]);
    const hash = plain.batch.series[0].hash;
    expect(hash, label).toBe(seriesHash(sent));
    expect(raw, label).toEqual({ hi: hashHigh(hash), lo: hashLow(hash) });
  } else {
    // Declined: the full path decides. It must be something the raw path may not take.
    expect(plain.invalid.length > 0 || !canonicalAsSent, label).toBe(true);
  }
}

const ruleSets: SeriesRules[] = [
  DEFAULT_SERIES_RULES,
  { ...DEFAULT_SERIES_RULES, nameValidation: 'utf8' },
  { ...DEFAULT_SERIES_RULES, maxLabelsPerSeries: 3, maxLabelNameLength: 8, maxLabelValueLength: 40 },
  { ...DEFAULT_SERIES_RULES, nameValidation: 'utf8', maxLabelsPerSeries: 2, maxLabelValueLength: 200 },
];

const names = fc.constantFrom('__name__', 'job', 'instance', 'a', 'b', 'B', '_x', 'le', 'a_b', 'a:b', 'bad-name', '0x', '', 'x9', 'verylongname', 'zz');
const values = fc.oneof(
  fc.constantFrom('', 'up', 'x', 'node', 'http_requests_total', 'bad-metric', '0metric', 'a:b', ':colon', 'a"b', 'new\nline', 'v'.repeat(150)),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 50 }),
);
const rawLabel = fc.record({ name: names, value: values, explicitEmpty: fc.boolean() }, { noNullPrototype: true });
/** Mostly sorted label sets (what senders send), some in any order, some with repeated names. */
const labelSet = fc.oneof(
  fc.uniqueArray(rawLabel, { selector: (l) => l.name, maxLength: 6 }).map((ls) => [...ls].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))),
  fc.array(rawLabel, { maxLength: 6 }),
);

describe('RawCanonicalizer', () => {
  it('hashes labels that are canonical and valid as sent, exactly as seriesHash', () => {
    const rules = ruleSets[0];
    const labels = [
      { name: '__name__', value: 'http_requests_total' },
      { name: 'code', value: '200' },
      { name: 'instance', value: 'a:9100' },
      { name: 'job', value: 'node' },
    ];
    const raw = rawOutcome(body(labels), rules);
    const hash = seriesHash(labels);
    expect(raw).toEqual({ hi: hashHigh(hash), lo: hashLow(hash) });
  });

  it('declines unsorted, duplicate, empty and invalid labels, and limits', () => {
    const rules = ruleSets[2];
    const cases: RawLabel[][] = [
      [{ name: 'b', value: '1' }, { name: 'a', value: '2' }],
      [{ name: 'a', value: '1' }, { name: 'a', value: '2' }],
      [{ name: 'a', value: '' }],
      [{ name: 'a', value: '', explicitEmpty: true }],
      [{ name: '', value: 'x', explicitEmpty: true }],
      [{ name: '', value: 'x' }],
      [{ name: 'bad-name', value: 'x' }],
      [{ name: '__name__', value: '0metric' }],
      [{ name: 'verylongname', value: 'x' }],
      [{ name: 'a', value: 'v'.repeat(41) }],
      [{ name: 'a', value: '1' }, { name: 'b', value: '1' }, { name: 'c', value: '1' }, { name: 'd', value: '1' }],
      [],
    ];
    for (const labels of cases) expect(rawOutcome(body(labels), rules), JSON.stringify(labels)).toBeUndefined();
  });

  it('takes long labels (multi-byte lengths) and metric names with colons', () => {
    const rules = ruleSets[0];
    const labels = [
      { name: '__name__', value: 'job:rate5m:sum' },
      { name: 'a', value: 'v'.repeat(300) },
    ];
    const raw = rawOutcome(body(labels), rules);
    const hash = seriesHash(labels);
    expect(raw).toEqual({ hi: hashHigh(hash), lo: hashLow(hash) });
  });

  it('hashes label sets longer than its scratch space', () => {
    const rules = { ...DEFAULT_SERIES_RULES, maxLabelValueLength: 10_000 };
    const labels = [
      { name: '__name__', value: 'm' },
      { name: 'a', value: 'x'.repeat(6000) },
      { name: 'b', value: 'y'.repeat(3) },
    ];
    const raw = rawOutcome(body(labels), rules);
    const hash = seriesHash(labels);
    expect(raw).toEqual({ hi: hashHigh(hash), lo: hashLow(hash) });
  });

  it('agrees with the full path on generated label sets and configurations', () => {
    fc.assert(
      fc.property(labelSet, fc.nat(ruleSets.length - 1), (labels, c) => expectAgreement(labels, ruleSets[c])),
      { numRuns: 3000 },
    );
  });

  it('declines nothing the full path finds valid and canonical as sent', () => {
    const sortedValid = fc
      .uniqueArray(
        fc.record({ name: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/), value: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 30 }) }, { noNullPrototype: true }),
        { selector: (l) => l.name, minLength: 1, maxLength: 8 },
      )
      .map((ls) => [...ls].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)));
    fc.assert(
      fc.property(sortedValid, (labels) => {
        const raw = rawOutcome(body(labels), ruleSets[0]);
        const hash = seriesHash(labels);
        expect(raw).toEqual({ hi: hashHigh(hash), lo: hashLow(hash) });
      }),
      { numRuns: 1000 },
    );
  });
});
