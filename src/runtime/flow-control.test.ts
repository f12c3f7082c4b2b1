import { describe, expect, it } from 'vitest';
import { FlowControl } from './flow-control.js';

describe('FlowControl', () => {
  it('hands out at most `capacity` credits', () => {
    const flow = new FlowControl(2);
    expect(flow.tryAcquire()).toBe(true);
    expect(flow.tryAcquire()).toBe(true);
    expect(flow.tryAcquire()).toBe(false);
    expect(flow.isFull).toBe(true);
    flow.release();
    expect(flow.tryAcquire()).toBe(true);
  });

  it('passes a released credit straight to a waiter', async () => {
    const flow = new FlowControl(1);
    flow.tryAcquire();
    let got = false;
    const waiting = flow.acquire().then(() => (got = true));
    await Promise.resolve();
    expect(got).toBe(false);
    flow.release();
    await waiting;
    expect(got).toBe(true);
    expect(flow.used).toBe(1);
  });

  it('drained() resolves once nothing is in flight', async () => {
    const flow = new FlowControl(3);
    flow.tryAcquire();
    let drained = false;
    const done = flow.drained(1).then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(drained).toBe(false);
    flow.release();
    await done;
    expect(drained).toBe(true);
  });
});
