import { describe, expect, it } from 'vitest';
import { liftSeriesMetadata, metricTypeFromWire, metricTypeToWire, seriesMetadataOf } from './metric-metadata.js';
import type { MetricType, TimeSeries } from './types.js';

const series = (name: string | undefined, metadata?: TimeSeries['metadata']): TimeSeries => ({
  labels: name === undefined ? [{ name: 'job', value: 'x' }] : [{ name: 'job', value: 'x' }, { name: '__name__', value: name }],
  samples: [],
  exemplars: [],
  histograms: [],
  ...(metadata === undefined ? {} : { metadata }),
});

describe('metric types', () => {
  it('map to and from the wire numbers both versions share', () => {
    const types: MetricType[] = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'];
    types.forEach((type, wire) => {
      expect(metricTypeFromWire(wire)).toBe(type);
      expect(metricTypeToWire(type)).toBe(wire);
    });
  });

  it('read numbers from a newer sender as unknown', () => {
    for (const wire of [8, 100, -1]) expect(metricTypeFromWire(wire)).toBe('unknown');
  });
});

describe('seriesMetadataOf', () => {
  it('keeps metadata only when some of it is set', () => {
    expect(seriesMetadataOf('unknown', '', '')).toBeUndefined();
    expect(seriesMetadataOf('counter', '', '')).toStrictEqual({ type: 'counter', help: '', unit: '' });
    expect(seriesMetadataOf('unknown', 'Help.', '')).toStrictEqual({ type: 'unknown', help: 'Help.', unit: '' });
    expect(seriesMetadataOf('unknown', '', 'bytes')).toStrictEqual({ type: 'unknown', help: '', unit: 'bytes' });
  });
});

describe('liftSeriesMetadata', () => {
  const gauge = { type: 'gauge' as const, help: 'Temperature.', unit: 'celsius' };

  it('names each entry after the series, once per distinct metadata, in first-seen order', () => {
    const lifted = liftSeriesMetadata([
      series('temp', gauge),
      series('up', { type: 'gauge', help: 'Up.', unit: '' }),
      series('temp', gauge),
      series('temp', { ...gauge, help: 'Temperature, again.' }),
    ]);
    expect(lifted).toStrictEqual([
      { metricFamilyName: 'temp', ...gauge },
      { metricFamilyName: 'up', type: 'gauge', help: 'Up.', unit: '' },
      { metricFamilyName: 'temp', ...gauge, help: 'Temperature, again.' },
    ]);
  });

  it('takes the family name from the first __name__ label, as sent', () => {
    const twoNames: TimeSeries = { ...series(' spaced ', gauge), labels: [{ name: '__name__', value: ' spaced ' }, { name: '__name__', value: 'second' }] };
    expect(liftSeriesMetadata([twoNames]).map((entry) => entry.metricFamilyName)).toStrictEqual([' spaced ']);
  });

  it('leaves out series without metadata or without a __name__', () => {
    expect(liftSeriesMetadata([series('up'), series(undefined, gauge)])).toStrictEqual([]);
  });
});
