import { describe, expect, it } from 'vitest';
import { seriesHash } from '../../src/series/series-hash.js';
import { seriesKey } from '../../src/series/series-key.js';
import { percentile, summarizeLatency } from './loadgen.js';
import { cpuSeconds, meterProcess } from './proc.js';
import { summarizeProfile } from './profile-summary.js';
import { SERIES_PER_TARGET, syntheticLabels, syntheticSeriesRange } from './synthetic-series.js';

describe('percentile and summarizeLatency', () => {
  it('takes nearest-rank percentiles of ascending values', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([], 50)).toBeNaN();
  });

  it('sorts numerically (not as text) before summarizing', () => {
    const summary = summarizeLatency(Float64Array.from([100, 9, 20, 3, 1000]));
    expect(summary).toEqual({ p50: 20, p99: 1000, max: 1000, mean: 1132 / 5 });
  });
});

describe('proc meters', () => {
  it('counts CPU time this process spends', () => {
    const meter = meterProcess(process.pid);
    const before = cpuSeconds(process.pid);
    const until = performance.now() + 300;
    let spin = 0;
    while (performance.now() < until) spin++;
    expect(spin).toBeGreaterThan(0);
    expect(cpuSeconds(process.pid) - before).toBeGreaterThan(0.1);
    const { cpuSeconds: used, peakRssMiB } = meter.stop();
    expect(used).toBeGreaterThan(0.1);
    expect(peakRssMiB).toBeGreaterThan(1);
  });
});

describe('summarizeProfile', () => {
  const frame = (functionName: string, url = '') => ({ functionName, scriptId: url ? '1' : '0', url, lineNumber: 9, columnNumber: 0 });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(idle)') },
      { id: 2, callFrame: frame('decode', 'file:///x/node_modules/protobufjs/src/reader.js') },
      { id: 3, callFrame: frame('(garbage collector)') },
    ],
    samples: [1, 2, 2, 3, 1],
    timeDeltas: [1000, 3000, 3000, 2000, 1000],
    startTime: 0,
    endTime: 10_000,
  };

  it('adds sample deltas into self time per function and package, leaving idle out', () => {
    const summary = summarizeProfile(profile);
    expect(summary.busyMs).toBe(8);
    expect(summary.wallMs).toBe(10);
    expect(summary.functions[0]).toEqual({ name: 'decode (node_modules/protobufjs/src/reader.js:10)', ms: 6, share: 0.75 });
    expect(summary.packages.map((p) => p.name)).toEqual(['protobufjs', '(garbage collector)']);
  });

  it('counts only the samples inside a window', () => {
    expect(summarizeProfile(profile, 15, { fromUs: 4500, toUs: 9500 }).busyMs).toBe(5);
  });
});

describe('synthetic series', () => {
  it('gives N distinct, sorted label sets with their true key and hash', () => {
    const n = SERIES_PER_TARGET * 3 + 17;
    const series = syntheticSeriesRange(0, n, { time: 1 });
    expect(new Set(series.map((s) => s.key)).size).toBe(n);
    expect(new Set(series.map((s) => s.hash)).size).toBe(n);
    for (const s of series.slice(0, 400)) {
      const names = s.labels.map((l) => l.name);
      expect(names).toEqual([...names].sort());
      expect(s.key).toBe(seriesKey(s.labels));
      expect(s.hash).toBe(seriesHash(s.labels));
    }
  });

  it('shares no series between salts', () => {
    const a = new Set(syntheticSeriesRange(0, 500, { salt: 'a' }).map((s) => s.key));
    expect(syntheticSeriesRange(0, 500, { salt: 'b' }).some((s) => a.has(s.key))).toBe(false);
    expect(syntheticLabels(5, 'a').find((l) => l.name === 'cluster')?.value).toBe('a');
  });
});
