import { hashHigh, hashLow, seriesHashOfPairs } from './series-hash.js';
import { compareBytes } from '../protobuf/bytes.js';
import { readLength, varintEnd as lengthEnd } from '../protobuf/varint.js';
import type { SeriesRules } from './validation.js';

/**
 * The series hash straight from a series' raw label bytes, for the common case: a sender's labels
 * are already canonical (sorted, no empty value) and valid. Nothing is decoded into strings or
 * objects; what is not plainly canonical and valid is left to the full path (decode, sort,
 * validate), which also words the errors.
 *
 * The bytes are a run of label fields as `scanWriteRequestV1` accepts them: each
 * `0x0a len [0x0a n name] [0x12 n value]`, ASCII, name and value each at most once.
 */

const LABEL_NAME = 0x0a; // Label field 1
const LABEL_VALUE = 0x12; // Label field 2
const SEPARATOR = 0xff;

/** `__name__`, whose value is a metric name and checked as one. */
const METRIC_NAME_LABEL = [0x5f, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x5f, 0x5f];

// Per ASCII byte, which legacy names it may start or continue.
const LABEL_FIRST = 1; // [a-zA-Z_]
const LABEL_REST = 2; // [a-zA-Z0-9_]
const METRIC_FIRST = 4; // [a-zA-Z_:]
const METRIC_REST = 8; // [a-zA-Z0-9_:]
const NAME_CHARS = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const letter = /[a-zA-Z_]/.test(ch);
  const digit = /[0-9]/.test(ch);
  const colon = ch === ':';
  NAME_CHARS[c] = (letter ? LABEL_FIRST | LABEL_REST | METRIC_FIRST | METRIC_REST : 0) | (digit ? LABEL_REST | METRIC_REST : 0) | (colon ? METRIC_FIRST | METRIC_REST : 0);
}

/**
 * Hashes canonical, valid raw label runs; `hash` answers false for anything else. The halves of
 * the last hash are in `hi` and `lo` (as LabelBytesCache answers a hit).
 */
export class RawCanonicalizer {
  hi = 0;
  lo = 0;
  /** `name 0xFF value 0xFF` per label: never longer than the label fields it comes from. */
  private pairs = new Uint8Array(4096);
  private pairsView = new DataView(this.pairs.buffer);

  constructor(private readonly rules: SeriesRules) {}

  /**
   * True, with `hi`/`lo` set to `seriesHash` of the labels, when the label fields
   * `bytes[start..end)` are canonical as they are (names strictly increasing, no empty name or
   * value) and valid under the rules; false when the full path must decide. `view` covers `bytes`.
   * Lengths in UTF-16 code units are bytes here (ASCII), and every ASCII name is valid UTF-8.
   */
  hash(bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
    const { maxLabelsPerSeries: maxLabels, maxLabelNameLength: maxNameLength, maxLabelValueLength: maxValueLength } = this.rules;
    const legacyNames = this.rules.nameValidation === 'legacy';
    if (end - start > this.pairs.length) {
      this.pairs = new Uint8Array(Math.max(end - start, 2 * this.pairs.length));
      this.pairsView = new DataView(this.pairs.buffer);
    }
    const pairs = this.pairs;
    const pairsView = this.pairsView;
    let out = 0;
    let labels = 0;
    let previousName = -1;
    let previousNameLength = 0;
    let p = start;
    while (p < end) {
      // Label field: tag (0x0a), then its length as a varint.
      const labelLength = readLength(bytes, p + 1, end);
      let q = lengthEnd;
      const labelEnd = q + labelLength;
      if (labelLength < 0 || q >= labelEnd || bytes[q] !== LABEL_NAME) return false; // no name: empty
      const nameLength = readLength(bytes, q + 1, labelEnd);
      const name = lengthEnd;
      q = name + nameLength;
      if (nameLength < 0 || q >= labelEnd || bytes[q] !== LABEL_VALUE) return false; // no value: empty, dropped
      const valueLength = readLength(bytes, q + 1, labelEnd);
      const value = lengthEnd;
      if (nameLength === 0 || valueLength <= 0) return false;
      if (nameLength > maxNameLength || valueLength > maxValueLength) return false;
      if (++labels > maxLabels) return false;
      if (previousName >= 0 && compareBytes(bytes, previousName, previousNameLength, name, nameLength) >= 0) return false;
      if (legacyNames) {
        if (isMetricNameLabel(bytes, name, nameLength)) {
          if (!isLegacyName(bytes, value, valueLength, METRIC_FIRST, METRIC_REST)) return false;
        } else if (!isLegacyName(bytes, name, nameLength, LABEL_FIRST, LABEL_REST)) {
          return false;
        }
      }
      out = copy(bytes, view, name, nameLength, pairs, pairsView, out);
      pairs[out++] = SEPARATOR;
      out = copy(bytes, view, value, valueLength, pairs, pairsView, out);
      pairs[out++] = SEPARATOR;
      previousName = name;
      previousNameLength = nameLength;
      p = labelEnd;
    }
    if (labels === 0) return false;
    const hash = seriesHashOfPairs(pairs, out);
    this.hi = hashHigh(hash);
    this.lo = hashLow(hash);
    return true;
  }
}

/**
 * Copies `length` bytes from `at` to `out`, 4 at a time (names and values are short: a subarray
 * and `set` per copy would cost more); returns the new end.
 */
function copy(bytes: Uint8Array, view: DataView, at: number, length: number, pairs: Uint8Array, pairsView: DataView, out: number): number {
  let i = 0;
  for (; i + 4 <= length; i += 4) pairsView.setInt32(out + i, view.getInt32(at + i));
  for (; i < length; i++) pairs[out + i] = bytes[at + i];
  return out + length;
}

function isMetricNameLabel(bytes: Uint8Array, name: number, length: number): boolean {
  if (length !== METRIC_NAME_LABEL.length) return false;
  for (let i = 0; i < length; i++) if (bytes[name + i] !== METRIC_NAME_LABEL[i]) return false;
  return true;
}

function isLegacyName(bytes: Uint8Array, at: number, length: number, first: number, rest: number): boolean {
  if ((NAME_CHARS[bytes[at]] & first) === 0) return false;
  for (let i = 1; i < length; i++) if ((NAME_CHARS[bytes[at + i]] & rest) === 0) return false;
  return true;
}
