/**
 * Label names and values repeat from request to request (a sender sends the same series every
 * scrape), and making a fresh string for each was most of the fast decoder's time. Short ASCII
 * byte runs are therefore looked up in fixed-size tables keyed by a hash of their bytes: a hit
 * returns the strings made earlier and allocates nothing; a miss makes them and takes the slot.
 *
 * The tables are shared by all requests. Their size bounds the memory they hold (~7 MiB, and the
 * strings); a sender with more distinct strings than slots only costs hit rate, never correctness,
 * since a hit is confirmed by comparing every byte. Hashing and comparing go 4 bytes at a time:
 * per-byte loops cost as much as making the string.
 */

/** Node's Buffer slicing methods behind toString(), without its argument checks (not in @types/node). */
export interface BufferSlicing {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const NOT_ASCII = -1;

/** A hash table from short ASCII byte runs to one or two strings made from them. */
class InternTable {
  readonly maxLength: number;
  private readonly slotMask: number;
  /** Per slot, its hash and byte length side by side: one cache line to reject a miss. */
  private readonly hashAndLength: Int32Array;
  /** A copy of each slot's bytes, at slot * maxLength, to confirm hits word by word. */
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** Per slot, its first and second string side by side. */
  readonly strings: string[];
  /** The hash of the last lookup, for `store` after a miss. */
  private lastHash = 0;

  constructor(slotBits: number, maxLength: number) {
    const slots = 1 << slotBits;
    this.maxLength = maxLength;
    this.slotMask = slots - 1;
    this.hashAndLength = new Int32Array(slots * 2);
    this.bytes = new Uint8Array(slots * maxLength);
    this.view = new DataView(this.bytes.buffer);
    this.strings = new Array<string>(slots * 2).fill('');
  }

  /**
   * The slot holding `bytes[start..end)` (at most maxLength bytes), or its bitwise complement
   * (negative) when the slot holds something else, or NOT_ASCII. `view` covers `bytes`.
   */
  lookup(bytes: Uint8Array, view: DataView, start: number, end: number): number {
    const length = end - start;
    let hash = length;
    let highBits = 0;
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const word = view.getInt32(i, true);
      highBits |= word;
      hash = Math.imul(hash ^ word, 0x9e3779b1);
      hash ^= hash >>> 15;
    }
    for (; i < end; i++) {
      const byte = bytes[i];
      highBits |= byte;
      hash = Math.imul(hash ^ byte, 0x01000193);
    }
    if ((highBits & 0x80808080) !== 0) return NOT_ASCII;
    hash ^= hash >>> 13;
    const slot = hash & this.slotMask;
    this.lastHash = hash;
    const meta = this.hashAndLength;
    if (meta[2 * slot] === hash && meta[2 * slot + 1] === length && this.holds(slot, bytes, view, start, end)) {
      return slot;
    }
    return ~slot;
  }

  store(slot: number, bytes: Uint8Array, start: number, end: number, first: string, second: string): void {
    this.hashAndLength[2 * slot] = this.lastHash;
    this.hashAndLength[2 * slot + 1] = end - start;
    this.bytes.set(bytes.subarray(start, end), slot * this.maxLength);
    this.strings[2 * slot] = first;
    this.strings[2 * slot + 1] = second;
  }

  private holds(slot: number, bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
    let cached = slot * this.maxLength;
    let i = start;
    for (; i + 4 <= end; i += 4, cached += 4) {
      if (view.getInt32(i, true) !== this.view.getInt32(cached, true)) return false;
    }
    for (; i < end; i++, cached++) if (bytes[i] !== this.bytes[cached]) return false;
    return true;
  }
}

const strings = new InternTable(14, 96);
/** Whole label messages, whose both strings come from one lookup. */
const labelPairs = new InternTable(15, 128);

export const MAX_INTERNED_STRING = strings.maxLength;

/**
 * The string of the ASCII bytes `bytes[start..end)` (1..MAX_INTERNED_STRING of them), interned;
 * `undefined` when a byte is not ASCII (the caller then decodes UTF-8).
 */
export function internAscii(bytes: Buffer, view: DataView, start: number, end: number): string | undefined {
  const slot = strings.lookup(bytes, view, start, end);
  if (slot >= 0) return strings.strings[2 * slot];
  if (slot === NOT_ASCII) return undefined;
  const made = (bytes as unknown as BufferSlicing).latin1Slice(start, end);
  strings.store(~slot, bytes, start, end, made, '');
  return made;
}

/** What `internLabelPair` found. */
export const internedLabel = { name: '', value: '' };

/**
 * For a label message in its usual form, `name` (field 1) then `value` (field 2), each with a
 * one-byte length and ASCII: sets `internedLabel` and returns true. Any other form returns false
 * and is left to the general decoding.
 */
export function internLabelPair(bytes: Buffer, view: DataView, start: number, end: number): boolean {
  if (end - start > labelPairs.maxLength || bytes[start] !== 0x0a) return false;
  const nameLength = bytes[start + 1];
  const nameEnd = start + 2 + nameLength;
  if (nameLength >= 0x80 || nameEnd + 2 > end || bytes[nameEnd] !== 0x12) return false;
  const valueLength = bytes[nameEnd + 1];
  if (valueLength >= 0x80 || nameEnd + 2 + valueLength !== end) return false;
  const slot = labelPairs.lookup(bytes, view, start, end);
  if (slot === NOT_ASCII) return false;
  if (slot >= 0) {
    internedLabel.name = labelPairs.strings[2 * slot];
    internedLabel.value = labelPairs.strings[2 * slot + 1];
    return true;
  }
  const slicing = bytes as unknown as BufferSlicing;
  internedLabel.name = slicing.latin1Slice(start + 2, nameEnd);
  internedLabel.value = slicing.latin1Slice(nameEnd + 2, end);
  labelPairs.store(~slot, bytes, start, end, internedLabel.name, internedLabel.value);
  return true;
}
