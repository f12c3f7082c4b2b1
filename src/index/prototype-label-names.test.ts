import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteIndex } from '../clients/sqlite/sqlite-index.js';
import { canonicalSeries, seriesBatch } from './fixtures.test-support.js';
import { parseSeriesSelector as parseSelector } from './selector.js';
import { labelSetFromKey } from './series-key.js';

describe('label names that are also Object.prototype properties', () => {
  it('reads them back from a key as plain labels, and nothing inherited', () => {
    const labels = labelSetFromKey('up{__proto__="x",constructor="c",job="a"}');
    expect(Object.keys(labels)).toEqual(['__name__', '__proto__', 'constructor', 'job']);
    expect(labels.__proto__).toBe('x');
    expect(labels.toString).toBeUndefined();
    expect(JSON.stringify(labels)).toBe('{"__name__":"up","__proto__":"x","constructor":"c","job":"a"}');
  });

  it('matches, lists and returns them like any other label', async () => {
    const index = await openSqliteIndex({ path: join(mkdtempSync(join(tmpdir(), 'weir-proto-')), 'index.sqlite') });
    try {
      await index.writeBatch(
        seriesBatch([
          canonicalSeries({ __name__: 'up', ['__proto__']: 'x', job: 'a' }, { first: 1, last: 2 }),
          canonicalSeries({ __name__: 'up', job: 'b' }, { first: 1, last: 2 }),
        ]),
      );
      const up = parseSelector('up');
      const keys = async (selector: string) => (await index.series([parseSelector(selector)])).map((s) => JSON.stringify(s));
      expect(await keys('{__proto__="x"}')).toEqual(['{"__name__":"up","__proto__":"x","job":"a"}']);
      expect(await keys('up{__proto__=""}')).toEqual(['{"__name__":"up","job":"b"}']);
      expect(await index.labelValues('__proto__', { matcherSets: [up] })).toEqual(['x']);
      expect(await index.labelValues('constructor', { matcherSets: [up] })).toEqual([]);
      expect(await index.labelValues('toString', { matcherSets: [up] })).toEqual([]);
      expect(await index.labelNames({ matcherSets: [up] })).toEqual(['__name__', '__proto__', 'job']);
    } finally {
      await index.close();
    }
  });
});
