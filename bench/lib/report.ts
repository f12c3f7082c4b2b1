import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describeMachine, type MachineInfo } from './machine.js';
import type { Figure, ScenarioResult } from './scenario.js';

/**
 * The bench's outputs: results JSON, a Markdown report, and the marked section of README.md.
 * Targets are read, never asserted: a missed one is reported with how far off it is.
 */

export interface ScenarioEntry extends ScenarioResult {
  /** When this scenario ran (entries kept from an earlier `--only` run keep their own). */
  date: string;
  seconds: number;
  /** Set when the scenario threw; its figures are then empty. */
  error?: string;
}

export interface BenchReport {
  date: string;
  command: string;
  quick: boolean;
  runs: number;
  seconds: number;
  machine: MachineInfo;
  peers: Record<string, string | undefined>;
  scenarios: ScenarioEntry[];
}

/** Earlier results' scenarios that this run did not repeat (`--only`), so the report stays whole. */
export function keptScenarios(path: string, ranIds: ReadonlySet<string>): ScenarioEntry[] {
  if (!existsSync(path)) return [];
  try {
    const previous = JSON.parse(readFileSync(path, 'utf8')) as BenchReport;
    return previous.scenarios.filter((s) => !ranIds.has(s.id));
  } catch {
    return [];
  }
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** `met`, `missed by 12%`, or undefined without a target. */
export function targetVerdict(f: Figure): { met: boolean; text: string } | undefined {
  if (!f.target) return undefined;
  const { op, value } = f.target;
  const met = op === '>=' ? f.value >= value : f.value <= value;
  if (met) return { met, text: 'yes' };
  // Far misses read better as a factor: "44× over" rather than "4294% over".
  const factor = op === '>=' ? value / f.value : f.value / value;
  if (op === '>=') return { met, text: `no: ${(((value - f.value) / value) * 100).toFixed(0)}% short${factor >= 2 ? `, ${factor.toFixed(1)}× to go` : ''}` };
  return { met, text: `no: ${factor >= 2 ? `${factor.toFixed(1)}×` : `${(((f.value - value) / value) * 100).toFixed(0)}%`} over` };
}

const opSymbol = (op: '>=' | '<=') => (op === '>=' ? '≥' : '≤');

function spread(f: Figure): string {
  if (f.runs.length < 2) return `${f.runs.length} run`;
  const min = Math.min(...f.runs);
  const max = Math.max(...f.runs);
  const relative = f.value !== 0 ? ` (±${(((max - min) / 2 / Math.abs(f.value)) * 100).toFixed(0)}%)` : '';
  return `${formatNumber(min)}–${formatNumber(max)}${relative}, ${f.runs.length} runs`;
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/**
 * One row per figure: scenario, figure, weir, vmagent, target, met?, spread. `headline` keeps only
 * the figures with a target or a peer value (the README's short table).
 */
export function figuresTable(scenarios: readonly ScenarioEntry[], { headline = false } = {}): string {
  const rows = ['| scenario | figure | weir | vmagent | target | met? | spread (weir) |', '| --- | --- | ---: | ---: | ---: | --- | --- |'];
  for (const s of scenarios) {
    if (s.error) {
      rows.push(`| ${s.id} | (failed) | | | | | ${cell(s.error.split('\n')[0].slice(0, 120))} |`);
      continue;
    }
    for (const [name, f] of Object.entries(s.figures)) {
      const peer = s.peer?.figures[name];
      if (headline && !f.target && !peer) continue;
      const verdict = targetVerdict(f);
      rows.push(
        `| ${s.id} | ${name} | ${formatNumber(f.value)} ${f.unit} | ${peer ? `${formatNumber(peer.value)} ${peer.unit}` : ''} | ` +
          `${f.target ? `${opSymbol(f.target.op)} ${formatNumber(f.target.value)}` : ''} | ${verdict?.text ?? ''} | ${spread(f)} |`,
      );
    }
  }
  return rows.join('\n');
}

/** Missed targets, one line each, for the README. */
export function missedTargets(scenarios: readonly ScenarioEntry[]): string[] {
  const missed: string[] = [];
  for (const s of scenarios) {
    for (const [name, f] of Object.entries(s.figures)) {
      const verdict = targetVerdict(f);
      if (verdict && !verdict.met) missed.push(`${s.id} ${name}: ${formatNumber(f.value)} ${f.unit} against ${opSymbol(f.target!.op)} ${formatNumber(f.target!.value)} (${verdict.text.slice(4)})`);
    }
  }
  return missed;
}

export function markdownReport(report: BenchReport): string {
  const lines = [
    `# Benchmark results`,
    '',
    `${report.date} · \`${report.command}\` · ${report.seconds.toFixed(0)} s · ${report.quick ? 'quick (short runs: a smoke check, not the figures)' : `${report.runs} runs per figure, medians`}`,
    '',
    `Machine: ${describeMachine(report.machine)}. Peers: ${Object.entries(report.peers)
      .map(([name, version]) => `${name} ${version ?? '(not installed)'}`)
      .join(', ')}.`,
    '',
    figuresTable(report.scenarios),
    '',
  ];
  for (const s of report.scenarios) {
    lines.push(`## ${s.id}: ${s.title}`, '', `Ran ${s.date}, ${s.seconds.toFixed(0)} s.`, '');
    if (s.error) lines.push('```', s.error, '```', '');
    for (const [name, f] of Object.entries(s.figures)) if (f.note) lines.push(`- \`${name}\`: ${f.note}`);
    if (s.findings?.length) lines.push('', 'Findings:', '', ...s.findings.map((f) => `- ${f}`));
    lines.push('');
  }
  return lines.join('\n');
}

export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';

/** The README section: the headline figures, what missed, when and where. */
export function readmeSection(report: BenchReport): string {
  const missed = missedTargets(report.scenarios);
  return [
    README_START,
    `Benchmarks (\`npm run bench\`, see [bench/README.md](bench/README.md)): the figures with a target or a
peer; every figure and the findings (profiles, where time goes) are in
[bench/results/latest.md](bench/results/latest.md). ${report.date.slice(0, 10)}, ${report.runs} runs per figure (medians),
${describeMachine(report.machine)}.`,
    '',
    figuresTable(report.scenarios, { headline: true }),
    '',
    ...(missed.length ? ['Missed targets:', '', ...missed.map((m) => `- ${m}`), ''] : []),
    README_END,
  ].join('\n');
}

/**
 * Replaces the README's marked section; without markers, adds them at the end of the Development
 * section (before the next `## ` heading, or at the end of the file).
 */
export function updateReadme(path: string, section: string): void {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  let updated: string;
  if (start >= 0 && end > start) {
    updated = text.slice(0, start) + section + text.slice(end + README_END.length);
  } else {
    const development = text.indexOf('\n## Development');
    const next = development >= 0 ? text.indexOf('\n## ', development + 1) : -1;
    const at = next >= 0 ? next + 1 : text.length;
    const before = text.slice(0, at).replace(/\n*$/, '\n\n');
    updated = `${before}${section}\n${next >= 0 ? `\n${text.slice(at)}` : ''}`;
  }
  writeFileSync(path, updated);
}

export function writeReport(jsonPath: string, mdPath: string, report: BenchReport): void {
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(mdPath, markdownReport(report));
}
