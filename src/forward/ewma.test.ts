import { describe, expect, it } from 'vitest';
import { EwmaRate } from './ewma.js';

describe('EwmaRate', () => {
  it('is 0 before the first tick, whatever was counted', () => {
    const rate = new EwmaRate(10_000);
    rate.incr(500);
    expect(rate.rate()).toBe(0);
  });

  it('takes the first interval as is, then moves 20% of the way to each new interval', () => {
    const rate = new EwmaRate(10_000);
    rate.incr(60);
    rate.incr(40);
    rate.tick();
    expect(rate.rate()).toBe(10); // 100 events in 10 s

    rate.incr(200);
    rate.tick();
    expect(rate.rate()).toBeCloseTo(12); // 10 + 0.2 × (20 − 10)

    rate.tick();
    expect(rate.rate()).toBeCloseTo(9.6); // idle: 12 + 0.2 × (0 − 12)
  });

  it('converges on a steady rate', () => {
    const rate = new EwmaRate(1_000);
    rate.tick(); // primed at 0
    for (let i = 0; i < 50; i++) {
      rate.incr(300);
      rate.tick();
    }
    expect(rate.rate()).toBeCloseTo(300, 1);
  });

  it('decays toward 0 when idle but stays positive', () => {
    const rate = new EwmaRate(1_000);
    rate.incr(1_000);
    rate.tick();
    for (let i = 0; i < 20; i++) rate.tick();
    expect(rate.rate()).toBeCloseTo(1_000 * 0.8 ** 20);
    expect(rate.rate()).toBeGreaterThan(0);
  });

  it('uses the weight given', () => {
    const rate = new EwmaRate(2_000, 0.5);
    rate.incr(20);
    rate.tick();
    rate.tick();
    expect(rate.rate()).toBe(5); // 10/s, then halfway to 0
  });

  it('refuses an interval or weight that makes no rate', () => {
    expect(() => new EwmaRate(0)).toThrow(RangeError);
    expect(() => new EwmaRate(1_000, 0)).toThrow(RangeError);
    expect(() => new EwmaRate(1_000, 1.5)).toThrow(RangeError);
  });
});
