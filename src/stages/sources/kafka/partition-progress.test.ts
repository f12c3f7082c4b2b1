import { describe, expect, it } from 'vitest';
import { PartitionProgress } from './partition-progress.js';

describe('PartitionProgress', () => {
  it('commits only the end of the longest done prefix', () => {
    const p = new PartitionProgress();
    const a = p.add(0n, 10n);
    const b = p.add(10n, 20n);
    const c = p.add(20n, 30n);
    expect(p.ack(b)).toBeUndefined();
    expect(p.ack(c)).toBeUndefined();
    expect(p.ack(a)).toBe(30n);
    expect(p.committed).toBe(30n);
    expect(p.inFlight).toBe(0);
  });

  it('rewinds to a failed batch and ignores later ones', () => {
    const p = new PartitionProgress();
    const a = p.add(0n, 10n);
    const b = p.add(10n, 20n);
    const c = p.add(20n, 30n);
    expect(p.fail(b)).toBe(10n);
    expect(p.ack(c)).toBeUndefined(); // read before the rewind: will be read again
    expect(p.fail(c)).toBeUndefined();
    expect(p.ack(a)).toBe(10n); // still counts: it came before the failure
    const b2 = p.add(10n, 20n);
    expect(p.ack(b2)).toBe(20n);
  });

  it('forgets in-flight batches when the partition is taken away', () => {
    const p = new PartitionProgress();
    const a = p.add(0n, 10n);
    p.reset();
    expect(p.ack(a)).toBeUndefined();
    expect(p.inFlight).toBe(0);
  });
});
