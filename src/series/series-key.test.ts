import { describe, expect, it } from 'vitest';
import type { Label } from '../remote-write/types.js';
import { seriesKey } from './series-key.js';

describe('seriesKey', () => {
  it('escapes values the way Prometheus prints them', () => {
    const labels: Label[] = [
      { name: '__name__', value: 'm' },
      { name: 'path', value: 'C:\\dir "x"\nnext' },
    ];
    expect(seriesKey(labels)).toBe('m{path="C:\\\\dir \\"x\\"\\nnext"}');
  });

  it('writes a series without a metric name as a bare label set', () => {
    expect(seriesKey([{ name: 'a', value: 'b' }])).toBe('{a="b"}');
  });
});
