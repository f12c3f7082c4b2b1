/**
 * A compact set of 64-bit series hashes with a last-dispatched time each, for the in-process dedup
 * tier. Two generations of open-addressing tables (linear probing; a slot is three uint32 side by
 * side, the key's halves and the time in seconds, so a lookup touches one cache line): inserts go
 * to the young table; when it is full the old one is dropped whole (emptied, it is the next young
 * one) and the young one becomes old.
 * Memory grows with what is stored, up to about 16 bytes per series at capacity; nothing is ever
 * deleted slot by slot, and what is evicted is what was touched least recently, a generation at a
 * time. A hit in the old generation is copied into the young one.
 */
const LOAD_FACTOR = 0.75;

/** Per slot: key high half, key low half, seconds since `epochSeconds` + 1 (0 marks an empty slot). */
const SLOT = 3;

/** Tables start this small and double as they fill, up to what `limit` needs. */
const INITIAL_SLOTS = 1024;
/** A table below its largest size grows past this load, so probes stay short. */
const GROW_AT = 0.5;

class Generation {
  slots: Uint32Array;
  mask: number;
  size = 0;
  private readonly maxSlots: number;

  constructor(readonly limit: number) {
    let slots = 16;
    while (slots * LOAD_FACTOR < limit) slots *= 2;
    this.maxSlots = slots;
    // Memory grows with what is stored: a few thousand series take a few pages, not a table
    // sized for millions whose every lookup would miss the CPU caches.
    const initial = Math.min(slots, INITIAL_SLOTS);
    this.mask = initial - 1;
    this.slots = new Uint32Array(initial * SLOT);
  }

  /** Index (into `slots`) of the key's slot, or of the empty slot where it would go as a negative number - 1. */
  find(hi: number, lo: number): number {
    const slots = this.slots;
    // The low bits of an xxHash64 are already uniform: no extra mixing needed.
    let slot = (lo ^ hi) & this.mask;
    for (;;) {
      const at = slot * SLOT;
      if (slots[at + 2] === 0) return -at - 1;
      if (slots[at + 1] === lo && slots[at] === hi) return at;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Stores a key known to be absent (`free` from `find`); may grow the table, which moves every slot. */
  add(free: number, hi: number, lo: number, time: number): void {
    const at = -free - 1;
    this.slots[at] = hi;
    this.slots[at + 1] = lo;
    this.slots[at + 2] = time;
    this.size += 1;
    const slotCount = this.mask + 1;
    if (slotCount < this.maxSlots && this.size > slotCount * GROW_AT) this.grow(slotCount * 2);
  }

  /**
   * Empties the generation for reuse, its table `slotCount` slots (one that filled up reached its
   * largest size: starting the next one there spares it the growth, and the pages are mapped).
   */
  reset(slotCount: number): this {
    const count = Math.min(slotCount, this.maxSlots);
    if (this.slots.length === count * SLOT) this.slots.fill(0);
    else this.slots = new Uint32Array(count * SLOT);
    this.mask = count - 1;
    this.size = 0;
    return this;
  }

  get full(): boolean {
    return this.size >= this.limit;
  }

  private grow(slotCount: number): void {
    const old = this.slots;
    this.slots = new Uint32Array(slotCount * SLOT);
    this.mask = slotCount - 1;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at + 2] === 0) continue;
      const free = -this.find(old[at], old[at + 1]) - 1;
      this.slots[free] = old[at];
      this.slots[free + 1] = old[at + 1];
      this.slots[free + 2] = old[at + 2];
    }
  }
}

export class SeenTable {
  private young: Generation;
  private old: Generation;
  /** Ten years back: uint32 seconds then reach 126 years ahead, and older marks still fit. */
  private readonly epochSeconds = Math.floor(Date.now() / 1000) - 10 * 365 * 86_400;

  /** @param capacity series remembered at most (both generations together). */
  constructor(readonly capacity: number) {
    const perGeneration = Math.max(1, Math.ceil(capacity / 2));
    this.young = new Generation(perGeneration);
    this.old = new Generation(perGeneration);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  /** Bytes held by the typed arrays (what the capacity costs). */
  get bytes(): number {
    return (this.young.slots.length + this.old.slots.length) * 4;
  }

  /** Last-dispatched time in ms, or undefined. */
  get(hash: bigint): number | undefined {
    return this.getHalves(Number(hash >> 32n) >>> 0, Number(hash & 0xffffffffn) >>> 0);
  }

  /** `get` for a hash given as its high and low uint32 halves. */
  getHalves(hi: number, lo: number): number | undefined {
    const y = this.young.find(hi, lo);
    if (y >= 0) return this.toMs(this.young.slots[y + 2]);
    const o = this.old.find(hi, lo);
    if (o < 0) return undefined;
    const time = this.old.slots[o + 2];
    this.insert(hi, lo, time); // keep what is still in use out of the next eviction
    return this.toMs(time);
  }

  set(hash: bigint, atMs: number): void {
    this.setHalves(Number(hash >> 32n) >>> 0, Number(hash & 0xffffffffn) >>> 0, atMs);
  }

  /** `set` for a hash given as its high and low uint32 halves. */
  setHalves(hi: number, lo: number, atMs: number): void {
    this.insert(hi >>> 0, lo >>> 0, Math.max(1, Math.floor(atMs / 1000) - this.epochSeconds + 1));
  }

  clear(): void {
    this.young = new Generation(this.young.limit);
    this.old = new Generation(this.old.limit);
  }

  private insert(hi: number, lo: number, time: number): void {
    let slot = this.young.find(hi, lo);
    if (slot >= 0) {
      this.young.slots[slot + 2] = Math.max(this.young.slots[slot + 2], time);
      return;
    }
    if (this.young.full) {
      const dropped = this.old;
      this.old = this.young;
      this.young = dropped.reset(this.old.mask + 1);
      slot = this.young.find(hi, lo);
    }
    this.young.add(slot, hi, lo, time);
  }

  private toMs(time: number): number {
    return (time - 1 + this.epochSeconds) * 1000;
  }
}
