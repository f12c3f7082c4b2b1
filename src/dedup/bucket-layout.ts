import { RespWriter } from '../clients/redis/resp-writer.js';

/**
 * Where the Redis dedup tier keeps each series, and the commands that read and write it. Series
 * are kept in small hashes ("buckets") rather than one key each: a key costs ~100 bytes of Redis
 * bookkeeping, a listpack-encoded hash field ~15 bytes.
 *
 *   key   = `<prefix>:<bits>:<bucket hex>`  bucket = the top `bits` bits of the 64-bit hash
 *   field = the low bytes of the hash (raw)  together with the bucket they give back all 64 bits,
 *                                             so two series never share an entry
 *   value = last-dispatched time, unix seconds (a 4-byte integer inside the listpack)
 *
 * The bucket width is part of the key so a layout sized for another `expected_series` never reads
 * this one's fields as its own (that would be a false "seen", i.e. a lost series).
 */

/** Average series per bucket the layout aims at: peaks stay under Redis' default hash-max-listpack-entries (128). */
export const TARGET_BUCKET_FILL = 64;
const MIN_BUCKET_BITS = 4;
const MAX_BUCKET_BITS = 24;

export class BucketLayout {
  /** Bits of the hash (from the top) that pick the bucket. */
  readonly bits: number;
  /** Bytes of the hash (from the bottom) stored as the field: they cover every bit the bucket doesn't. */
  readonly fieldBytes: number;
  /** What comes before a bucket's number (hex) in its key. */
  readonly keyPrefix: string;
  private readonly keyPrefixBytes: Buffer;
  /** Per count of hex digits (1..6), a key's bulk header and prefix: `$<length>\r\n<prefix>`. */
  private readonly keyHeads: Buffer[];

  constructor(readonly prefix: string, expectedSeries: number) {
    const wanted = Math.ceil(Math.log2(Math.max(1, expectedSeries / TARGET_BUCKET_FILL)));
    this.bits = Math.min(MAX_BUCKET_BITS, Math.max(MIN_BUCKET_BITS, wanted));
    this.fieldBytes = Math.ceil((64 - this.bits) / 8);
    this.keyPrefix = `${prefix}:${this.bits}:`;
    this.keyPrefixBytes = Buffer.from(this.keyPrefix, 'utf8');
    this.keyHeads = Array.from({ length: 7 }, (_, digits) => Buffer.concat([Buffer.from(`$${this.keyPrefixBytes.length + digits}\r\n`, 'latin1'), this.keyPrefixBytes]));
  }

  get buckets(): number {
    return 2 ** this.bits;
  }

  key(bucket: number): string {
    return `${this.keyPrefix}${bucket.toString(16)}`;
  }

  /** `group` for hashes given as BigInts (negative ones wrap to their 64-bit pattern). */
  group(hashes: readonly bigint[]): Grouped {
    const n = hashes.length;
    // The hashes as native 64-bit words, read back as halves: no BigInt arithmetic per hash.
    const words = new BigUint64Array(n);
    for (let i = 0; i < n; i++) words[i] = hashes[i];
    const halves = new Uint32Array(words.buffer);
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      hi[i] = halves[2 * i + HIGH_HALF];
      lo[i] = halves[2 * i + 1 - HIGH_HALF];
    }
    return this.groupPairs(hi, lo, n);
  }

  /**
   * The `n` hashes given as uint32 halves (`hi[i]`, `lo[i]`) grouped by bucket (ascending), each
   * group's fields in input order: one HGET/HMGET or HSET per group. `order` lists the input
   * positions in grouped order: the replies come back in that order.
   */
  groupPairs(hi: Uint32Array, lo: Uint32Array, n: number): Grouped {
    const w = this.fieldBytes;
    const shift = 32 - this.bits;
    const order = sortedByBucket(hi, shift, n);
    const buckets = new Uint32Array(n);
    const sizes = new Uint32Array(n);
    const fields = Buffer.allocUnsafe(n * w);
    let groups = 0;
    let at = 0;
    for (let p = 0; p < n; p++) {
      const i = order[p];
      const bucket = hi[i] >>> shift;
      if (groups === 0 || buckets[groups - 1] !== bucket) buckets[groups++] = bucket;
      sizes[groups - 1]++;
      // The low `w` bytes of the hash, most significant first: the low w - 4 bytes of the high
      // half (w is 5 to 8: the bucket takes at most 24 bits), then the low half.
      const high = hi[i];
      for (let k = 8 * (w - 5); k >= 0; k -= 8) fields[at++] = (high >>> k) & 0xff;
      const low = lo[i];
      fields[at++] = low >>> 24;
      fields[at++] = (low >>> 16) & 0xff;
      fields[at++] = (low >>> 8) & 0xff;
      fields[at++] = low & 0xff;
    }
    return { groups, buckets: buckets.subarray(0, groups), sizes: sizes.subarray(0, groups), fields, order };
  }

  /** Where one hash is stored (for tests and debugging). */
  locate(hash: bigint): { key: string; field: Buffer } {
    const raw = Buffer.allocUnsafe(8);
    raw.writeBigUInt64BE(BigInt.asUintN(64, hash));
    return { key: this.key(raw.readUInt32BE(0) >>> (32 - this.bits)), field: raw.subarray(8 - this.fieldBytes) };
  }

  /**
   * A lookup as RESP: per group `HGET key field`, or `HMGET key field...` for several. The
   * replies: per group a bulk string (HGET) or an array of them (HMGET), nil where absent.
   */
  lookupCommands(grouped: Grouped): Buffer {
    const w = this.fieldBytes;
    const out = new RespWriter(grouped.groups * (40 + 2 * this.keyPrefixBytes.length) + grouped.fields.length * 3);
    let field = 0;
    for (let g = 0; g < grouped.groups; g++) {
      const n = grouped.sizes[g];
      if (n === 1) out.raw(HGET);
      else {
        out.header(0x2a, 2 + n);
        out.raw(HMGET);
      }
      this.writeKey(out, grouped.buckets[g]);
      for (let j = 0; j < n; j++, field += w) out.bulk(grouped.fields, field, field + w);
    }
    return out.done();
  }

  /**
   * A mark as RESP: per group `HSET key field value...` (value: `seconds`, decimal), then, for the
   * groups whose `lifetimes[g]` is above 0 (ms; the tier does not know when the key expires),
   * `PEXPIRE key lifetime NX` and `PEXPIRETIME key`. The replies: an integer each.
   */
  markCommands(grouped: Grouped, seconds: number, lifetimes: Float64Array): Buffer {
    const w = this.fieldBytes;
    const value = Buffer.from(String(seconds), 'latin1');
    const lifetimesSet = this.markCommandCount(grouped, lifetimes) - grouped.groups;
    const out = new RespWriter(
      (grouped.groups + 2 * lifetimesSet) * (48 + this.keyPrefixBytes.length) + grouped.fields.length * 2 + grouped.fields.length / w * (value.length + 16),
    );
    let field = 0;
    for (let g = 0; g < grouped.groups; g++) {
      const n = grouped.sizes[g];
      out.header(0x2a, 2 + 2 * n);
      out.raw(HSET);
      this.writeKey(out, grouped.buckets[g]);
      for (let j = 0; j < n; j++, field += w) {
        out.bulk(grouped.fields, field, field + w);
        out.bulk(value, 0, value.length);
      }
      if (setsLifetime(lifetimes[g])) {
        out.raw(PEXPIRE);
        this.writeKey(out, grouped.buckets[g]);
        out.decimal(Math.round(lifetimes[g]));
        out.raw(NX);
        out.raw(PEXPIRETIME);
        this.writeKey(out, grouped.buckets[g]);
      }
    }
    return out.done();
  }

  /** How many commands (so replies) `markCommands` writes for these groups and lifetimes. */
  markCommandCount(grouped: Grouped, lifetimes: Float64Array): number {
    let commands = grouped.groups;
    for (let g = 0; g < grouped.groups; g++) if (setsLifetime(lifetimes[g])) commands += 2;
    return commands;
  }

  /** `$<length>\r\n<prefix><bucket hex>\r\n` (a bucket has at most 24 bits: 6 hex digits). */
  private writeKey(out: RespWriter, bucket: number): void {
    let digits = 1;
    while (digits < 6 && bucket >>> (4 * digits) !== 0) digits++;
    out.raw(this.keyHeads[digits]);
    for (let d = digits - 1; d >= 0; d--) out.byte(HEX[(bucket >>> (4 * d)) & 0xf]);
    out.crlf();
  }
}

/**
 * Whether a mark gives a group's key a lifetime (PEXPIRE NX, then PEXPIRETIME): the one test the
 * encoder and the reader of its replies share, so they never disagree on how many replies come.
 */
export function setsLifetime(lifetime: number): boolean {
  return lifetime > 0;
}

export interface Grouped {
  /** How many groups (distinct buckets). */
  groups: number;
  /** Per group, its bucket. */
  buckets: Uint32Array;
  /** Per group, how many fields. */
  sizes: Uint32Array;
  /** The fields (`fieldBytes` each), group after group. */
  fields: Buffer;
  /** For each field in turn, its position in the input. */
  order: Uint32Array;
}

/** Which 32-bit half of a native 64-bit word holds its high bits. */
const HIGH_HALF = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Positions within a batch in a double sort key (see `sortedByBucket`): 2^29, so bucket (< 2^24) × this stays exact. */
const POSITION_SPAN = 2 ** 29;

/**
 * The positions 0..n-1 ordered by bucket (`hi[i] >>> shift`), input order within a bucket: a
 * sort of bucket × 2^k + position keys, without a Map or an array per bucket. The keys are
 * uint32 when bucket and position bits fit in 32 (batches of a few thousand), else exact doubles.
 */
function sortedByBucket(hi: Uint32Array, shift: number, n: number): Uint32Array {
  const order = new Uint32Array(n);
  const positionBits = n <= 1 ? 0 : 32 - Math.clz32(n - 1);
  if (32 - shift + positionBits <= 32) {
    const span = 2 ** positionBits;
    const keys = new Uint32Array(n);
    for (let i = 0; i < n; i++) keys[i] = (hi[i] >>> shift) * span + i;
    keys.sort();
    for (let p = 0; p < n; p++) order[p] = keys[p] & (span - 1);
    return order;
  }
  if (n >= POSITION_SPAN) throw new RangeError(`redis dedup: a batch of ${n} hashes is past ${POSITION_SPAN}`);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = (hi[i] >>> shift) * POSITION_SPAN + i;
  keys.sort();
  for (let p = 0; p < n; p++) order[p] = keys[p] % POSITION_SPAN;
  return order;
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const HGET = Buffer.from('*3\r\n$4\r\nHGET\r\n', 'latin1');
const HMGET = Buffer.from('$5\r\nHMGET\r\n', 'latin1');
const HSET = Buffer.from('$4\r\nHSET\r\n', 'latin1');
const PEXPIRE = Buffer.from('*4\r\n$7\r\nPEXPIRE\r\n', 'latin1');
const NX = Buffer.from('$2\r\nNX\r\n', 'latin1');
const PEXPIRETIME = Buffer.from('*2\r\n$11\r\nPEXPIRETIME\r\n', 'latin1');
