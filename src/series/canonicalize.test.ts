import { describe, expect, it } from 'vitest';
import type { TimeSeries, WriteRequest } from '../remote-write/types.js';
import { seriesHash } from './series-hash.js';
import { SeriesCanonicalizer } from './canonicalize.js';
import { DEFAULT_SERIES_RULES, type SeriesRules } from './validation.js';

/** The plain path: no label-bytes cache. */
const canonicalize = (req: WriteRequest, now: number, rules: SeriesRules = DEFAULT_SERIES_RULES) => new SeriesCanonicalizer(rules).canonicalize(req, now);
const series = (labels: Record<string, string>, timestamps: number[] = [1000]): TimeSeries => ({
  labels: Object.entries(labels).map(([name, value]) => ({ name, value })),
  samples: timestamps.map((timestamp) => ({ value: 1, timestamp })),
  exemplars: [],
  histograms: [],
});
const request = (...timeseries: TimeSeries[]): WriteRequest => ({ version: '1.0', timeseries, metadata: [] });

describe('SeriesCanonicalizer', () => {
  it('sorts labels, drops empty values, and names the series', () => {
    const { batch, invalid } = canonicalize(request(series({ job: 'node', __name__: 'up', empty: '', instance: 'a:9100' })), 0);
    expect(invalid).toEqual([]);
    const [s] = batch.series;
    expect(s.labels.map((l) => l.name)).toEqual(['__name__', 'instance', 'job']);
    expect(s.metricName).toBe('up');
    expect(s.key).toBe('up{instance="a:9100",job="node"}');
    expect(s.hash).toBe(seriesHash(s.labels));
  });

  it('gives the same identity whatever order the sender used', () => {
    const a = canonicalize(request(series({ a: '1', b: '2', __name__: 'm' })), 0).batch.series[0];
    const b = canonicalize(request(series({ __name__: 'm', b: '2', a: '1' })), 0).batch.series[0];
    expect(a.hash).toBe(b.hash);
    expect(a.key).toBe(b.key);
  });

  it('merges a series sent twice in one request into one entry with the widest time range', () => {
    const { batch } = canonicalize(request(series({ __name__: 'm' }, [50, 60]), series({ __name__: 'm' }, [10, 20])), 0);
    expect(batch.series).toHaveLength(1);
    expect(batch.series[0].firstTimestamp).toBe(10);
    expect(batch.series[0].lastTimestamp).toBe(60);
  });

  it('uses the receive time for a series without samples', () => {
    const { batch } = canonicalize(request(series({ __name__: 'm' }, [])), 777);
    expect([batch.series[0].firstTimestamp, batch.series[0].lastTimestamp]).toEqual([777, 777]);
  });

  it.each([
    [{ __name__: 'up', job: 'a', '': 'x' }, 'empty label name'],
    [{ __name__: '1up' }, 'invalid metric name "1up"'],
    [{ __name__: 'up', 'bad-name': 'x' }, 'invalid label name "bad-name"'],
    [{ job: '' }, 'no labels'],
  ])('reports %j as invalid: %s', (labels, reason) => {
    const { batch, invalid } = canonicalize(request(series({ __name__: 'ok' }), series(labels as Record<string, string>)), 0);
    expect(batch.series).toHaveLength(1);
    expect(invalid).toHaveLength(1);
    expect(invalid[0].where).toMatch(/^timeseries\[1\]/);
    expect(invalid[0].reason).toContain(reason);
  });

  it('reports duplicate label names', () => {
    const dup: TimeSeries = { ...series({}), labels: [{ name: '__name__', value: 'm' }, { name: 'a', value: '1' }, { name: 'a', value: '2' }] };
    expect(canonicalize(request(dup), 0).invalid[0].reason).toBe('duplicate label name "a"');
  });

  it('enforces the configured limits', () => {
    const rules = { ...DEFAULT_SERIES_RULES, maxLabelsPerSeries: 2, maxLabelValueLength: 5 };
    expect(canonicalize(request(series({ __name__: 'm', a: '1', b: '2' })), 0, rules).invalid[0].reason).toMatch(/3 labels, more than the limit of 2/);
    expect(canonicalize(request(series({ __name__: 'm', a: '123456' })), 0, rules).invalid[0].reason).toMatch(/longer than 5/);
  });

  it('accepts UTF-8 names when configured to', () => {
    const rules: SeriesRules = { ...DEFAULT_SERIES_RULES, nameValidation: 'utf8' };
    const { batch, invalid } = canonicalize(request(series({ __name__: 'http.requests', 'service.name': 'api' })), 0, rules);
    expect(invalid).toEqual([]);
    expect(batch.series[0].key).toBe('{"http.requests","service.name"="api"}');
  });
});
