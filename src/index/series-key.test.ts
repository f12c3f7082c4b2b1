import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seriesKey } from '../series/series-key.js';
import { compareBytes } from './fixtures.test-support.js';
import { labelSetFromKey } from './series-key.js';

const labelSet = (labels: Record<string, string>) => {
  const sorted = Object.entries(labels)
    .sort(([a], [b]) => compareBytes(a, b))
    .map(([name, value]) => ({ name, value }));
  return { key: seriesKey(sorted), sorted };
};

describe('labelSetFromKey', () => {
  it.each([
    [{ __name__: 'up', job: 'a' }],
    [{ __name__: 'my.metric', 'a.b': 'c', job: 'x' }],
    [{ 'a.b': 'c', z: '1' }],
    [{ __name__: 'up' }],
    [{ __name__: 'up', v: 'a"b\\c\nd,e}=f{' }],
    [{ __name__: 'm', '"quoted"': '😀', Zone: 'eu' }],
  ] as Record<string, string>[][])('reads back %j', (labels) => {
    const { key, sorted } = labelSet(labels);
    const parsed = labelSetFromKey(key);
    expect(parsed).toEqual(labels);
    expect(Object.keys(parsed)).toEqual([...(labels.__name__ ? ['__name__'] : []), ...sorted.map((l) => l.name).filter((n) => n !== '__name__')]);
  });

  it('reads back any label set', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(fc.dictionary(text, text, { minKeys: 1, maxKeys: 6 }), (labels) => {
        expect(labelSetFromKey(labelSet(labels).key)).toEqual(labels);
      }),
      { numRuns: 500, seed: 11 },
    );
  });

  it('refuses what is not a series key', () => {
    for (const bad of ['up', 'up{a="b"', 'up{a=b}', 'up{a="b\\x"}', 'up{a="b"}x']) expect(() => labelSetFromKey(bad)).toThrow(/not a series key/);
  });
});
