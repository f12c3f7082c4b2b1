import { describe, expect, it } from 'vitest';
import { seriesHash, seriesKey } from '../../series/canonical.js';
import type { Label, TimeSeries, WriteRequest } from '../../remote-write/types.js';
import { canonicalizeConfig, canonicalizeRequest } from './canonicalize.js';

const defaults = canonicalizeConfig.parse({});
const series = (labels: Record<string, string>, timestamps: number[] = [1000]): TimeSeries => ({
  labels: Object.entries(labels).map(([name, value]) => ({ name, value })),
  samples: timestamps.map((timestamp) => ({ value: 1, timestamp })),
  exemplars: [],
  histograms: [],
});
const request = (...timeseries: TimeSeries[]): WriteRequest => ({ version: '1.0', timeseries, metadata: [] });

describe('canonicalizeRequest', () => {
  it('sorts labels, drops empty values, and names the series', () => {
    const { batch, invalid } = canonicalizeRequest(request(series({ job: 'node', __name__: 'up', empty: '', instance: 'a:9100' })), defaults, 0);
    expect(invalid).toEqual([]);
    const [s] = batch.series;
    expect(s.labels.map((l) => l.name)).toEqual(['__name__', 'instance', 'job']);
    expect(s.metricName).toBe('up');
    expect(s.key).toBe('up{instance="a:9100",job="node"}');
    expect(s.hash).toBe(seriesHash(s.labels));
  });

  it('gives the same identity whatever order the sender used', () => {
    const a = canonicalizeRequest(request(series({ a: '1', b: '2', __name__: 'm' })), defaults, 0).batch.series[0];
    const b = canonicalizeRequest(request(series({ __name__: 'm', b: '2', a: '1' })), defaults, 0).batch.series[0];
    expect(a.hash).toBe(b.hash);
    expect(a.key).toBe(b.key);
  });

  it('merges a series sent twice in one request into one entry with the widest time range', () => {
    const { batch } = canonicalizeRequest(request(series({ __name__: 'm' }, [50, 60]), series({ __name__: 'm' }, [10, 20])), defaults, 0);
    expect(batch.series).toHaveLength(1);
    expect(batch.series[0].firstTimestamp).toBe(10);
    expect(batch.series[0].lastTimestamp).toBe(60);
  });

  it('uses the receive time for a series without samples', () => {
    const { batch } = canonicalizeRequest(request(series({ __name__: 'm' }, [])), defaults, 777);
    expect([batch.series[0].firstTimestamp, batch.series[0].lastTimestamp]).toEqual([777, 777]);
  });

  it.each([
    [{ __name__: 'up', job: 'a', '': 'x' }, 'empty label name'],
    [{ __name__: '1up' }, 'invalid metric name "1up"'],
    [{ __name__: 'up', 'bad-name': 'x' }, 'invalid label name "bad-name"'],
    [{ job: '' }, 'no labels'],
  ])('reports %j as invalid: %s', (labels, reason) => {
    const { batch, invalid } = canonicalizeRequest(request(series({ __name__: 'ok' }), series(labels as Record<string, string>)), defaults, 0);
    expect(batch.series).toHaveLength(1);
    expect(invalid).toHaveLength(1);
    expect(invalid[0].where).toMatch(/^timeseries\[1\]/);
    expect(invalid[0].reason).toContain(reason);
  });

  it('reports duplicate label names', () => {
    const dup: TimeSeries = { ...series({}), labels: [{ name: '__name__', value: 'm' }, { name: 'a', value: '1' }, { name: 'a', value: '2' }] };
    expect(canonicalizeRequest(request(dup), defaults, 0).invalid[0].reason).toBe('duplicate label name "a"');
  });

  it('enforces the configured limits', () => {
    const config = canonicalizeConfig.parse({ max_labels_per_series: 2, max_label_value_length: 5 });
    expect(canonicalizeRequest(request(series({ __name__: 'm', a: '1', b: '2' })), config, 0).invalid[0].reason).toMatch(/3 labels, more than the limit of 2/);
    expect(canonicalizeRequest(request(series({ __name__: 'm', a: '123456' })), config, 0).invalid[0].reason).toMatch(/longer than 5/);
  });

  it('accepts UTF-8 names when configured to', () => {
    const config = canonicalizeConfig.parse({ name_validation: 'utf8' });
    const { batch, invalid } = canonicalizeRequest(request(series({ __name__: 'http.requests', 'service.name': 'api' })), config, 0);
    expect(invalid).toEqual([]);
    expect(batch.series[0].key).toBe('{"http.requests","service.name"="api"}');
  });
});

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

describe('seriesHash', () => {
  it('hashes exactly name 0xFF value 0xFF per label, in UTF-8, whatever the characters', async () => {
    const { h64Raw } = await (await import('xxhash-wasm')).default();
    const labels: Label[] = [
      { name: '__name__', value: 'http_requests_total' },
      { name: 'path', value: '/é/€/😀' },
      { name: 'zone', value: 'ascii-only' },
    ];
    const bytes = Buffer.concat(labels.flatMap((l) => [Buffer.from(l.name, 'utf8'), Buffer.from([0xff]), Buffer.from(l.value, 'utf8'), Buffer.from([0xff])]));
    expect(seriesHash(labels)).toBe(h64Raw(new Uint8Array(bytes), 0n));
  });

  it('is xxHash64 with seed 0 (the empty input gives the reference value)', () => {
    expect(seriesHash([])).toBe(0xef46db3751d8e999n);
  });

  it('separates name and value, so shifting a character between them changes the hash', () => {
    expect(seriesHash([{ name: 'ab', value: 'c' }])).not.toBe(seriesHash([{ name: 'a', value: 'bc' }]));
  });

  it('handles multi-byte UTF-8 and long label sets', () => {
    const long: Label[] = Array.from({ length: 200 }, (_, i) => ({ name: `l${String(i).padStart(3, '0')}`, value: 'é€😀'.repeat(20) }));
    expect(seriesHash(long)).toBe(seriesHash(long.map((l) => ({ ...l }))));
    expect(seriesHash(long)).not.toBe(seriesHash(long.slice(1)));
  });
});

describe('canonicalize config', () => {
  it('refuses a label cache larger than its 32-bit offsets can address', () => {
    expect(canonicalizeConfig.parse({}).label_cache_mib).toBe(64);
    expect(canonicalizeConfig.safeParse({ label_cache_mib: 2048 }).success).toBe(true);
    expect(canonicalizeConfig.safeParse({ label_cache_mib: 4200 }).success).toBe(false);
  });
});
