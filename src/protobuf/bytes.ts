/**
 * Byte order of two runs of one buffer (label names read in place): negative, zero or positive as
 * `bytes[a..a+aLength)` sorts before, with or after `bytes[b..b+bLength)`. For ASCII it is the
 * same as JavaScript's string order.
 */
export function compareBytes(bytes: Uint8Array, a: number, aLength: number, b: number, bLength: number): number {
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const d = bytes[a + i] - bytes[b + i];
    if (d !== 0) return d;
  }
  return aLength - bLength;
}
