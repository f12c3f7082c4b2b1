/**
 * `npm run bench [-- --quick] [--runs N] [--only id,id] [--profile]`
 *
 * Builds weir, starts what the selected scenarios need (scripts/services.sh up, install-vmagent.sh),
 * runs every scenario of bench/scenarios/ (each file exporting `scenario`, see lib/scenario.ts),
 * then writes bench/results/latest.json and latest.md and the README's bench section. --quick runs
 * a few seconds per run and writes latest-quick.* instead (a smoke check, not the figures).
 * --profile also profiles weir in the scenarios that do so (bench/results/profiles/).
 * Targets are reported, never asserted: the exit code is 1 only when a scenario failed to run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { corpusDir } from '../test/support/corpus.js';
import { REPO_ROOT } from './lib/child-weir.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { vmagentVersion } from './lib/peer.js';
import { figuresTable, keptScenarios, readmeSection, updateReadme, writeReport, type BenchReport, type ScenarioEntry } from './lib/report.js';
import type { Scenario, ScenarioContext } from './lib/scenario.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number >= 1, got "${args.runs}"`);

const benchStarted = performance.now();
const log = (message: string) => console.error(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s] ${message}`);

interface Discovered {
  file: string;
  scenario?: Scenario;
  error?: string;
}

/** Every bench/scenarios/*.ts exporting a `scenario`; a file that fails to import is reported, not fatal. */
async function discoverScenarios(): Promise<Discovered[]> {
  const dir = join(REPO_ROOT, 'bench', 'scenarios');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort();
  const found: Discovered[] = [];
  for (const file of files) {
    try {
      const module = (await import(pathToFileURL(join(dir, file)).href)) as { scenario?: Scenario };
      const scenario = module.scenario;
      if (scenario && typeof scenario.id === 'string' && typeof scenario.run === 'function') found.push({ file, scenario });
    } catch (err) {
      found.push({ file, error: `import of bench/scenarios/${file} failed: ${(err as Error).stack ?? String(err)}` });
    }
  }
  return found;
}

function sh(command: string, commandArgs: string[]): string {
  return execFileSync(command, commandArgs, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
}

/** Starts the services and peers the scenarios need; services.sh's exports go into process.env. */
function provide(needs: ReadonlySet<string>): void {
  const services = ['kafka', 'redis', 'mariadb'].filter((s) => needs.has(s));
  if (services.length > 0) {
    log(`services: ${services.join(', ')}`);
    for (const line of sh('bash', ['scripts/services.sh', 'up', ...services]).split('\n')) {
      const match = /^export (\w+)=(.*)$/.exec(line.trim());
      if (match) process.env[match[1]] = match[2].replace(/^['"]|['"]$/g, '');
    }
  }
  if (needs.has('vmagent')) {
    log('peer: vmagent');
    sh('bash', ['scripts/install-vmagent.sh']);
  }
}

const discovered = await discoverScenarios();
const known = discovered.filter((d) => d.scenario).map((d) => d.scenario!.id);
const only = args.only ? new Set(args.only.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
for (const id of only ?? []) {
  if (!known.includes(id)) {
    console.error(`bench: no scenario "${id}"; there are: ${known.join(', ')}`);
    process.exit(2);
  }
}
const selected = discovered.filter((d) => (d.scenario ? !only || only.has(d.scenario.id) : !only));

if (!args['skip-build']) {
  log('npm run build');
  sh('npm', ['run', 'build', '--silent']);
}
provide(new Set(selected.flatMap((d) => d.scenario?.needs ?? [])));

const resultsDir = join(REPO_ROOT, 'bench', 'results');
const profileDir = join(resultsDir, 'profiles');
const machine = machineInfo();
log(`machine: ${describeMachine(machine)}`);
const ctx: ScenarioContext = { runs, quick: args.quick, corpusDir: corpusDir(), log, profileDir: args.profile ? profileDir : undefined };

const entries: ScenarioEntry[] = [];
for (const d of selected) {
  const date = new Date().toISOString();
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  if (!d.scenario) {
    entries.push({ id: d.file.replace(/\.ts$/, ''), title: `bench/scenarios/${d.file}`, figures: {}, date, seconds: 0, error: d.error });
    continue;
  }
  log(`scenario ${d.scenario.id}: ${d.scenario.title}`);
  try {
    const result = await d.scenario.run(ctx);
    entries.push({ ...result, date, seconds: seconds() });
    log(`scenario ${d.scenario.id} done in ${seconds().toFixed(0)} s`);
  } catch (err) {
    const error = (err as Error).stack ?? String(err);
    log(`scenario ${d.scenario.id} failed: ${error}`);
    entries.push({ id: d.scenario.id, title: d.scenario.title, figures: {}, date, seconds: seconds(), error });
  }
}

const base = args.quick ? 'latest-quick' : 'latest';
const jsonPath = join(resultsDir, `${base}.json`);
mkdirSync(resultsDir, { recursive: true });
const ranIds = new Set(entries.map((e) => e.id));
const report: BenchReport = {
  date: new Date().toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
  quick: args.quick,
  runs,
  seconds: (performance.now() - benchStarted) / 1000,
  machine,
  peers: { vmagent: vmagentVersion() },
  // With --only, the scenarios not run now keep their earlier results.
  scenarios: [...entries, ...keptScenarios(jsonPath, ranIds)].sort((a, b) => a.id.localeCompare(b.id)),
};
writeReport(jsonPath, join(resultsDir, `${base}.md`), report);
if (!args.quick) updateReadme(join(REPO_ROOT, 'README.md'), readmeSection(report));
console.log(figuresTable(report.scenarios));
log(`wrote bench/results/${base}.json and ${base}.md${args.quick ? '' : ' and the README section'} in ${report.seconds.toFixed(0)} s`);
process.exitCode = entries.some((e) => e.error) ? 1 : 0;
