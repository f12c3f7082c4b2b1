/**
 * From the raw protobuf bytes of a series' labels to the 64-bit series hash (as two uint32
 * halves) of the canonical labels they decode to. A sender sends the same series with the same
 * label bytes every scrape; with this, a known series costs a hash of its bytes and a comparison
 * instead of building strings, sorting, validating and xxHash64.
 *
 * Exact, not probabilistic: a hit is confirmed by comparing every byte, and only series that
 * passed canonicalization are stored, so a hit means "these very bytes were canonicalized before
 * and were valid, with this hash". Memory is bounded: two generations, each a byte arena and an
 * open-addressing slot table; when the young one is full the old one is dropped whole (as in
 * SeenTable) and, emptied, becomes the young one; a hit in the old generation is copied into the
 * young one.
 */

// hash32, length + 1 (0: empty, so a new table needs no filling and costs no memory until used), arena offset, hash hi, hash lo
const SLOT_INTS = 5;

/** Slot tables start this small and double past half full, up to what the arena needs. */
const INITIAL_SLOTS = 1024;

class CacheGeneration {
  slots: Int32Array;
  readonly arena: Uint8Array;
  readonly arenaView: DataView;
  mask: number;
  readonly maxEntries: number;
  private readonly maxSlots: number;
  used = 0;
  entries = 0;

  /** @param initialSlots where the slot table starts (a power of two; capped at what the arena needs). */
  constructor(arenaBytes: number, initialSlots = INITIAL_SLOTS) {
    // About one slot per 64 arena bytes: label sets are ~100-300 bytes, so the table stays under half full.
    let slots = 1024;
    while (slots * 64 < arenaBytes) slots *= 2;
    this.maxSlots = slots;
    this.maxEntries = slots >>> 1;
    // The slot table grows with the entries (a few thousand series keep it in the CPU caches); the
    // arena is filled in order, so its untouched pages cost nothing.
    const initial = Math.min(slots, initialSlots);
    this.mask = initial - 1;
    this.slots = new Int32Array(initial * SLOT_INTS);
    this.arena = new Uint8Array(arenaBytes);
    this.arenaView = new DataView(this.arena.buffer);
  }

  /** Slot index holding the bytes, or the bitwise complement of the free slot where they would go. */
  find(hash: number, bytes: Uint8Array, view: DataView, start: number, end: number): number {
    const lengthPlusOne = end - start + 1;
    const slots = this.slots;
    let slot = hash & this.mask;
    for (;;) {
      const at = slot * SLOT_INTS;
      const slotLength = slots[at + 1];
      if (slotLength === 0) return ~slot;
      if (slots[at] === hash && slotLength === lengthPlusOne && this.holds(slots[at + 2], bytes, view, start, end)) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  /**
   * Empties the generation for reuse, its slot table `slotCount` slots: the arena's pages are
   * already mapped, where a new arena's would fault in one by one as they are filled.
   */
  reset(slotCount: number): this {
    const count = Math.min(slotCount, this.maxSlots);
    if (this.slots.length === count * SLOT_INTS) this.slots.fill(0);
    else this.slots = new Int32Array(count * SLOT_INTS);
    this.mask = count - 1;
    this.used = 0;
    this.entries = 0;
    return this;
  }

  fits(length: number): boolean {
    return this.entries < this.maxEntries && this.used + length <= this.arena.length;
  }

  store(freeSlot: number, hash: number, bytes: Uint8Array, start: number, end: number, hi: number, lo: number): void {
    const at = freeSlot * SLOT_INTS;
    this.slots[at] = hash;
    this.slots[at + 1] = end - start + 1;
    this.slots[at + 2] = this.used;
    this.slots[at + 3] = hi;
    this.slots[at + 4] = lo;
    this.arena.set(bytes.subarray(start, end), this.used);
    this.used += end - start;
    this.entries++;
    const slotCount = this.mask + 1;
    if (slotCount < this.maxSlots && this.entries > slotCount >>> 1) this.grow(slotCount * 2);
  }

  /** Doubles the slot table; entries keep their arena bytes, only their slots move. */
  private grow(slotCount: number): void {
    const old = this.slots;
    this.slots = new Int32Array(slotCount * SLOT_INTS);
    this.mask = slotCount - 1;
    for (let from = 0; from < old.length; from += SLOT_INTS) {
      if (old[from + 1] === 0) continue;
      let slot = old[from] & this.mask;
      while (this.slots[slot * SLOT_INTS + 1] !== 0) slot = (slot + 1) & this.mask;
      const to = slot * SLOT_INTS;
      for (let k = 0; k < SLOT_INTS; k++) this.slots[to + k] = old[from + k];
    }
  }

  private holds(offset: number, bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
    const arenaView = this.arenaView;
    let i = start;
    let o = offset;
    for (; i + 8 <= end; i += 8, o += 8) {
      if (((view.getInt32(i, true) ^ arenaView.getInt32(o, true)) | (view.getInt32(i + 4, true) ^ arenaView.getInt32(o + 4, true))) !== 0) return false;
    }
    for (; i < end; i++, o++) if (bytes[i] !== this.arena[o]) return false;
    return true;
  }
}

export class LabelBytesCache {
  private young: CacheGeneration;
  private old: CacheGeneration;
  private readonly generationBytes: number;
  /** The hash halves of the last hit (`lookup` returned true). */
  hi = 0;
  lo = 0;
  /**
   * The last miss in the young generation: the free slot it found, for the `store` that nearly
   * always follows (a new series), so it does not probe again. Valid only while nothing was stored.
   */
  private missBytes: Uint8Array | undefined;
  private missHash = 0;
  private missStart = 0;
  private missEnd = 0;
  private missSlot = 0;

  /** @param bytes arena bytes for both generations together. */
  constructor(bytes: number) {
    this.generationBytes = Math.max(4096, Math.floor(bytes / 2));
    this.young = new CacheGeneration(this.generationBytes);
    this.old = new CacheGeneration(this.generationBytes);
  }

  /**
   * True (and `hi`/`lo` set) when `bytes[start..end)` was stored; `view` covers `bytes`. `hash` is
   * any 32-bit hash of those bytes, the same one `store` was given (raw-request's `hashRun`).
   */
  lookup(hash: number, bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
    const young = this.young.find(hash, bytes, view, start, end);
    if (young >= 0) return this.hit(this.young, young);
    this.missBytes = bytes;
    this.missHash = hash;
    this.missStart = start;
    this.missEnd = end;
    this.missSlot = young;
    const old = this.old.find(hash, bytes, view, start, end);
    if (old < 0) return false;
    this.hit(this.old, old);
    this.store(hash, bytes, view, start, end, this.hi, this.lo);
    return true;
  }

  /** Remembers that `bytes[start..end)` canonicalize to a valid series with hash `hi:lo`. */
  store(hash: number, bytes: Uint8Array, view: DataView, start: number, end: number, hi: number, lo: number): void {
    const length = end - start;
    const missed = this.missBytes === bytes && this.missHash === hash && this.missStart === start && this.missEnd === end;
    this.missBytes = undefined;
    if (length > this.generationBytes) return;
    let slot = missed ? this.missSlot : this.young.find(hash, bytes, view, start, end);
    if (slot >= 0) return;
    if (!this.young.fits(length)) {
      const dropped = this.old;
      this.old = this.young;
      // The dropped generation is reused, its slot table as large as the one that just filled up.
      this.young = dropped.reset(this.old.mask + 1);
      slot = this.young.find(hash, bytes, view, start, end);
    }
    this.young.store(~slot, hash, bytes, start, end, hi, lo);
  }

  private hit(generation: CacheGeneration, slot: number): true {
    this.hi = generation.slots[slot * SLOT_INTS + 3] >>> 0;
    this.lo = generation.slots[slot * SLOT_INTS + 4] >>> 0;
    return true;
  }
}
