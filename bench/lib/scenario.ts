/**
 * The contract between `npm run bench` (bench/run.ts) and each scenario (bench/scenarios/*.ts).
 * A scenario measures one thing, several runs, and reports medians; the runner collects them into
 * bench/results/latest.json and latest.md (and the README's table).
 */
export interface Figure {
  /** The median over `runs` runs. */
  value: number;
  unit: string;
  /** Every run's value, so the report can show the spread. */
  runs: number[];
  /** The issue's target, when there is one, e.g. { op: '>=', value: 150000 }. */
  target?: { op: '>=' | '<='; value: number };
  /** What the figure means or how it was taken, one line. */
  note?: string;
}

export interface ScenarioResult {
  /** Stable id, e.g. `steady-embedded`. */
  id: string;
  title: string;
  /** Figures by name, e.g. `samples_per_cpu_second`. */
  figures: Record<string, Figure>;
  /** The peer's figures measured in the same run (vmagent), by the same names. */
  peer?: { name: string; figures: Record<string, Figure> };
  /** Where a target is missed: by how much, and what the profile shows. */
  findings?: string[];
}

export interface ScenarioContext {
  /** Runs per figure (median taken); `npm run bench -- --runs 5`. */
  runs: number;
  /** Scale down for a quick check (`--quick`): fewer series and shorter runs. */
  quick: boolean;
  corpusDir: string;
  log(message: string): void;
  /**
   * Set by `npm run bench -- --profile`: a scenario that profiles runs weir once more with
   * `--cpu-prof --cpu-prof-dir=<profileDir>` (not counted in its figures) and adds the top
   * self-time functions to its findings. Scenarios that do not profile ignore it.
   */
  profileDir?: string;
}

export interface Scenario {
  id: string;
  title: string;
  /** Services the scenario needs started (scripts/services.sh). */
  needs: Array<'kafka' | 'redis' | 'mariadb' | 'vmagent'>;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function figure(runs: number[], unit: string, extra: Omit<Figure, 'value' | 'unit' | 'runs'> = {}): Figure {
  return { value: median(runs), unit, runs, ...extra };
}
