import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { loadCorpus, loadManifest } from '../../test/support/corpus.js';
import {
  decodeWriteRequestV1Reference,
  decodeWriteRequestV2Reference,
  encodeWriteRequestV1,
  encodeWriteRequestV2,
} from './reference-codec.test-support.js';
import { decompressSnappy } from './snappy.js';
import type { Label, WriteRequest } from './types.js';

const sortedLabelKey = (labels: Label[]): string =>
  JSON.stringify([...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));

describe('reference codec on the corpus', () => {
  const manifest = loadManifest();
  const corpus = loadCorpus().map(({ file, body }) => ({ file, raw: decompressSnappy(body, 64 << 20) }));
  const decoded = corpus.map(({ file, raw }) => ({ file, req: decodeWriteRequestV1Reference(raw) }));

  it('decodes every file to the counts in the manifest', () => {
    expect(decoded.map(({ file }) => file)).toStrictEqual(manifest.files.map((entry) => entry.file));
    const counts = decoded.map(({ file, req }) => ({
      file,
      timeseries: req.timeseries.length,
      samples: req.timeseries.reduce((sum, series) => sum + series.samples.length, 0),
      metadata: req.metadata.length,
    }));
    expect(counts).toStrictEqual(manifest.files);
    expect(counts.reduce((sum, entry) => sum + entry.samples, 0)).toBe(manifest.samples);
    expect(counts.reduce((sum, entry) => sum + entry.metadata, 0)).toBe(manifest.metadata);
  });

  it('finds the distinct series of the manifest, over sorted label sets', () => {
    const distinct = new Set(decoded.flatMap(({ req }) => req.timeseries.map((series) => sortedLabelKey(series.labels))));
    expect(distinct.size).toBe(manifest.distinct_series);
  });

  it('decodes what Prometheus sent: names, timestamps, metadata', () => {
    const series = decoded[0].req.timeseries[0];
    expect(series.labels.map((label) => label.name)).toContain('__name__');
    expect(series.labels).toContainEqual({ name: 'cluster', value: 'ceo-lab' });
    // Scraped in 2026: millisecond timestamps, as numbers.
    expect(series.samples[0].timestamp).toBeGreaterThan(Date.UTC(2025, 0, 1));
    const metadata = decoded.flatMap(({ req }) => req.metadata);
    expect(metadata).toContainEqual({
      metricFamilyName: 'promhttp_metric_handler_requests_in_flight',
      type: 'gauge',
      help: 'Current number of scrapes being served.',
      unit: '',
    });
  });

  it('re-encodes every body to exactly the bytes Prometheus sent', () => {
    for (const { file, raw } of corpus) {
      const reencoded = Buffer.from(encodeWriteRequestV1(decodeWriteRequestV1Reference(raw)));
      expect(reencoded.equals(raw), file).toBe(true);
    }
  });
});

describe('reference codec, 2.0 encoding', () => {
  const req: WriteRequest = {
    version: '2.0',
    timeseries: [
      {
        labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'node' }],
        samples: [{ value: 1, timestamp: 1_700_000_000_000 }],
        exemplars: [{ labels: [{ name: 'trace_id', value: 'node' }], value: 1, timestamp: 5 }],
        histograms: [],
        metadata: { type: 'gauge', help: 'Up.', unit: '' },
        createdTimestamp: 0,
      },
      {
        labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'push' }],
        samples: [],
        exemplars: [],
        histograms: [],
        metadata: { type: 'gauge', help: 'Up.', unit: '' },
        createdTimestamp: 1_600_000_000_000,
      },
    ],
    metadata: [{ metricFamilyName: 'up', type: 'gauge', help: 'Up.', unit: '' }],
  };

  it('interns every string once, after the empty string, and decodes back to the request', () => {
    const body = encodeWriteRequestV2(req);
    const text = Buffer.from(body).toString('latin1');
    for (const symbol of ['__name__', 'up', 'job', 'node', 'trace_id', 'Up.']) {
      expect(text.split(symbol).length - 1, symbol).toBe(1);
    }
    expect(decodeWriteRequestV2Reference(body)).toStrictEqual(req);
  });

  it('takes metadata from the series only, 2.0 having no request-level metadata', () => {
    const withoutSeriesMetadata: WriteRequest = {
      ...req,
      timeseries: req.timeseries.map(({ metadata: _metadata, ...series }) => series),
    };
    const decoded = decodeWriteRequestV2Reference(encodeWriteRequestV2(withoutSeriesMetadata));
    expect(decoded.metadata).toStrictEqual([]);
    expect(decoded.timeseries.every((series) => series.metadata === undefined)).toBe(true);
  });

  it('drops 2.0-only fields when encoding 1.0', () => {
    const decoded = decodeWriteRequestV1Reference(encodeWriteRequestV1(req));
    expect(decoded.timeseries[1]).toStrictEqual({
      labels: req.timeseries[1].labels,
      samples: [],
      exemplars: [],
      histograms: [],
    });
    expect(decoded.metadata).toStrictEqual(req.metadata);
  });
});

describe('reference codec, malformed input', () => {
  it('reports protobufjs failures as InvalidInputError, never as RangeError', () => {
    const truncated = Uint8Array.from([0x0a, 0x10, 0x0a]);
    for (const decode of [decodeWriteRequestV1Reference, decodeWriteRequestV2Reference]) {
      expect(() => decode(truncated)).toThrow(InvalidInputError);
      expect(() => decode(truncated)).toThrow(/^protobuf: /);
    }
  });
});
