import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { REPO_ROOT } from './child-weir.js';
import { monotonicUs, profileFindings, summarizeProfileFile } from './profile-summary.js';
import { startWeir, type RunningServer, type WeirOptions } from './servers.js';
import { describeRun, type RunMeasurement } from './steady.js';

/**
 * One extra run of weir under `node --cpu-prof` (slower, so never counted in a scenario's
 * figures): weir is started with the profiler, prepared (warm-up), measured, and stopped, which
 * writes the profile. Only the measured interval is summarized, so start-up and warm-up do not
 * show; the result is a few lines for the scenario's findings.
 */

export interface ProfiledRun {
  label: string;
  profileDir: string;
  weir: WeirOptions;
  /** Warm-up and the like, outside the summarized window. */
  prepare(weir: RunningServer): Promise<void>;
  measure(weir: RunningServer): Promise<RunMeasurement>;
  log(message: string): void;
}

const compact = (n: number) => Math.round(n).toLocaleString('en-US');

export async function profiledRun({ label, profileDir, weir: weirOptions, prepare, measure, log }: ProfiledRun): Promise<string[]> {
  const dir = resolve(profileDir);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const weir = await startWeir({ ...weirOptions, nodeFlags: [...(weirOptions.nodeFlags ?? []), '--cpu-prof', `--cpu-prof-dir=${dir}`] });
  let run: RunMeasurement;
  let window;
  try {
    await prepare(weir);
    const fromUs = monotonicUs();
    run = await measure(weir);
    window = { fromUs, toUs: monotonicUs() };
    log(`${label} profiled run: ${describeRun(run)}`);
  } finally {
    await weir.stop();
  }
  // node names it CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile; the main thread's of this pid is ours.
  const profiles = readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile') && file.includes(`.${weir.pid}.`))
    .filter((file) => statSync(join(dir, file)).mtimeMs >= started)
    .sort();
  if (profiles.length === 0) return [`profile: no .cpuprofile of pid ${weir.pid} appeared in ${dir} (did weir exit cleanly?)`];
  const path = join(dir, profiles[0]);
  return [
    `profile: ${relative(REPO_ROOT, path)}, the measured ${(run.load.elapsedSeconds).toFixed(0)} s of one extra run under --cpu-prof ` +
      `(${compact(run.samplesPerCpuSecond)} samples/CPU-s with the profiler's overhead)`,
    ...profileFindings(summarizeProfileFile(path, 15, window)),
  ];
}
