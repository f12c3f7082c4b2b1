import { describe, expect, it } from 'vitest';
import { PendingMarks } from './pending-marks.js';

/** A mark that runs until let go. */
function hangingMark() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { mark: () => done, finish };
}

describe('PendingMarks', () => {
  it('lets acknowledgements go without waiting while at most max marks run, and waits past that', async () => {
    const marks = new PendingMarks(2);
    const [a, b, c, d] = [hangingMark(), hangingMark(), hangingMark(), hangingMark()];
    expect(marks.start(a.mark)).toBeUndefined();
    expect(marks.start(b.mark)).toBeUndefined();
    const third = marks.start(c.mark);
    expect(third).toBeInstanceOf(Promise);
    c.finish();
    await third;
    // Two still run (a and b): the next one waits again until one of them is done.
    expect(marks.start(d.mark)).toBeInstanceOf(Promise);
    a.finish();
    b.finish();
    d.finish();
    await new Promise((r) => setImmediate(r));
    expect(marks.start(() => Promise.resolve())).toBeUndefined();
  });

  it('makes every acknowledgement wait with max 0', async () => {
    const marks = new PendingMarks(0);
    let marked = false;
    const waits = marks.start(async () => {
      marked = true;
    });
    expect(waits).toBeInstanceOf(Promise);
    await waits;
    expect(marked).toBe(true);
  });
});
