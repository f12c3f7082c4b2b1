import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { figuresTable, formatNumber, keptScenarios, missedTargets, readmeSection, README_END, README_START, targetVerdict, updateReadme, type BenchReport, type ScenarioEntry } from './report.js';
import type { MachineInfo } from './machine.js';
import { figure, median } from './scenario.js';

const machine: MachineInfo = { nproc: 2, cpuModel: 'test cpu', memoryGiB: 24, kernel: 'test', node: 'v20', loadAverage: 0.5, commit: 'abc', dirty: false };

function entry(id: string, figures: ScenarioEntry['figures'], extra: Partial<ScenarioEntry> = {}): ScenarioEntry {
  return { id, title: `${id} title`, figures, date: '2026-11-21T00:00:00.000Z', seconds: 1, ...extra };
}

function report(scenarios: ScenarioEntry[]): BenchReport {
  return { date: '2026-11-21T00:00:00.000Z', command: 'npm run bench', quick: false, runs: 3, seconds: 10, machine, peers: { vmagent: '1.79' }, scenarios };
}

describe('median and figure', () => {
  it('takes the middle value, or the mean of the two middle ones, whatever the input order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(figure([30, 10, 20], 'x/s', { note: 'n' })).toEqual({ value: 20, unit: 'x/s', runs: [30, 10, 20], note: 'n' });
  });
});

describe('targetVerdict', () => {
  it('says yes when a target is met, by how much it is missed otherwise, nothing without a target', () => {
    expect(targetVerdict(figure([100], 'x', { target: { op: '>=', value: 100 } }))).toEqual({ met: true, text: 'yes' });
    expect(targetVerdict(figure([90], 'x', { target: { op: '>=', value: 100 } }))).toEqual({ met: false, text: 'no: 10% short' });
    expect(targetVerdict(figure([10], 'x', { target: { op: '>=', value: 100 } }))).toEqual({ met: false, text: 'no: 90% short, 10.0× to go' });
    expect(targetVerdict(figure([3], 'ms', { target: { op: '<=', value: 2 } }))).toEqual({ met: false, text: 'no: 50% over' });
    expect(targetVerdict(figure([48], 'ms', { target: { op: '<=', value: 2 } }))).toEqual({ met: false, text: 'no: 24.0× over' });
    expect(targetVerdict(figure([1], 'ms', { target: { op: '<=', value: 2 } }))?.met).toBe(true);
    expect(targetVerdict(figure([1], 'ms'))).toBeUndefined();
  });
});

describe('formatNumber', () => {
  it('groups thousands and keeps about three significant digits below', () => {
    expect(formatNumber(1_234_567.4)).toBe('1,234,567');
    expect(formatNumber(123.4)).toBe('123');
    expect(formatNumber(12.34)).toBe('12.3');
    expect(formatNumber(1.234)).toBe('1.23');
    expect(formatNumber(Number.NaN)).toBe('NaN');
  });
});

describe('tables and README section', () => {
  const scenarios = [
    entry('steady', {
      samples_per_cpu_second: figure([90, 100, 110], 'samples/CPU-s', { target: { op: '>=', value: 200 } }),
      latency_p50_ms: figure([1, 2, 3], 'ms'),
    }, { peer: { name: 'vmagent', figures: { samples_per_cpu_second: figure([200], 'samples/CPU-s') } } }),
    entry('broken', {}, { error: 'Error: it | failed\n  at somewhere' }),
  ];

  it('lists every figure with peer, target, verdict and spread; a failed scenario shows its first error line', () => {
    const table = figuresTable(scenarios);
    expect(table).toContain('| steady | samples_per_cpu_second | 100 samples/CPU-s | 200 samples/CPU-s | ≥ 200 | no: 50% short, 2.0× to go | 90.0–110 (±10%), 3 runs |');
    expect(table).toContain('| steady | latency_p50_ms | 2.00 ms |  |  |  | 1.00–3.00 (±50%), 3 runs |');
    expect(table).toContain('| broken | (failed) | | | | | Error: it \\| failed |');
    expect(figuresTable(scenarios, { headline: true })).not.toContain('latency_p50_ms');
  });

  it('names the missed targets and replaces only the marked README section', () => {
    expect(missedTargets(scenarios)).toEqual(['steady samples_per_cpu_second: 100 samples/CPU-s against ≥ 200 (50% short, 2.0× to go)']);
    const dir = mkdtempSync(join(tmpdir(), 'weir-report-'));
    const readme = join(dir, 'README.md');
    writeFileSync(readme, '# x\n\n## Development\n\ntext\n\n## Next\n\nmore\n');
    updateReadme(readme, readmeSection(report(scenarios)));
    const once = readFileSync(readme, 'utf8');
    expect(once.indexOf(README_START)).toBeGreaterThan(once.indexOf('text'));
    expect(once.indexOf(README_END)).toBeLessThan(once.indexOf('## Next'));
    expect(once).toContain('- steady samples_per_cpu_second');
    updateReadme(readme, readmeSection(report([])));
    const twice = readFileSync(readme, 'utf8');
    expect(twice.split(README_START)).toHaveLength(2);
    expect(twice).not.toContain('Missed targets');
    expect(twice).toContain('## Next\n\nmore\n');
  });

  it('keeps earlier scenarios that this run did not repeat, and nothing from a missing or broken file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-report-'));
    const path = join(dir, 'latest.json');
    expect(keptScenarios(path, new Set())).toEqual([]);
    writeFileSync(path, JSON.stringify(report(scenarios)));
    expect(keptScenarios(path, new Set(['steady'])).map((s) => s.id)).toEqual(['broken']);
    writeFileSync(path, '{ not json');
    expect(keptScenarios(path, new Set())).toEqual([]);
  });
});
