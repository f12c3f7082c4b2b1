import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a V8 CPU profile (`node --cpu-prof`, a .cpuprofile JSON) spent its time: self time per
 * function, and per source file. Self time comes from the sample deltas (`timeDeltas`), which are
 * exact per sample, rather than from hit counts times a nominal interval.
 *
 *   npx tsx bench/lib/profile-summary.ts bench/results/profiles/<file>.cpuprofile [top=15]
 */

interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  /** `functionName (file:line)`, or V8's own `(garbage collector)`, `(program)`. */
  name: string;
  /** Milliseconds of self time. */
  ms: number;
  /** Share of the busy (non-idle) time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  /** Wall time summarized (the window, or the whole profile) and the part of it the thread was busy (not `(idle)`), ms. */
  wallMs: number;
  busyMs: number;
  functions: SelfTime[];
  files: SelfTime[];
  /** By package: `weir` (dist/, src/), each node_modules package, `node` (built-in modules), V8's own. */
  packages: SelfTime[];
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Shortens a script URL: repository-relative, node_modules/<package>, node:<builtin>. */
function shortFile(url: string): string {
  if (url === '') return '';
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + 1);
  if (path.startsWith(REPO_ROOT)) path = relative(REPO_ROOT, path);
  return path;
}

/**
 * Where a frame's code lives. Code compiled at run time (`new Function`, e.g. protobufjs' generated
 * encoders) has a script but no URL; V8's own entries ((garbage collector), (program)) have neither.
 */
function scriptOf(frame: CallFrame): string {
  if (frame.url) return shortFile(frame.url);
  return frame.scriptId && frame.scriptId !== '0' ? `generated code, script ${frame.scriptId}` : '';
}

function packageOf(file: string): string {
  if (file.startsWith('node_modules/')) {
    const parts = file.split('/');
    return parts[1].startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1];
  }
  if (file.startsWith('dist/') || file.startsWith('src/')) return 'weir';
  if (file.startsWith('node:')) return 'node';
  if (file.startsWith('generated code')) return 'generated code';
  // V8 entries and native functions without a script ((garbage collector), writeBuffer…).
  return file.startsWith('(') ? file : 'native';
}

function functionLabel(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  const file = scriptOf(frame);
  // V8's line numbers are 0-based.
  return file ? `${name} (${file}:${frame.lineNumber + 1})` : name;
}

function ranked(totals: Map<string, number>, busyMs: number, top: number): SelfTime[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }));
}

/**
 * Profile timestamps are CLOCK_MONOTONIC microseconds on Linux, the clock of `process.hrtime` in
 * any process: a window taken in the bench process selects the measured part of a child's profile
 * (leaving out its start-up and warm-up).
 */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

/** Now, in the clock of profile timestamps. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export function summarizeProfile(profile: CpuProfile, top = 15, window?: ProfileWindow): ProfileSummary {
  const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busyUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = nodeById.get(profile.samples[i]);
    // A sample's delta is the time since the previous sample: the time attributed to this one.
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busyUs += us;
    const fn = functionLabel(node.callFrame);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us / 1000);
    const file = scriptOf(node.callFrame) || node.callFrame.functionName || '(native)';
    byFile.set(file, (byFile.get(file) ?? 0) + us / 1000);
    const pkg = packageOf(scriptOf(node.callFrame) || node.callFrame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us / 1000);
  }
  const busyMs = busyUs / 1000;
  const from = window ? Math.max(window.fromUs, profile.startTime) : profile.startTime;
  const to = window ? Math.min(window.toUs, profile.endTime) : profile.endTime;
  return {
    wallMs: Math.max(0, to - from) / 1000,
    busyMs,
    functions: ranked(byFunction, busyMs, top),
    files: ranked(byFile, busyMs, top),
    packages: ranked(byPackage, busyMs, top),
  };
}

export function summarizeProfileFile(path: string, top = 15, window?: ProfileWindow): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, top, window);
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

const shares = (entries: SelfTime[]) => entries.map((f) => `${percent(f.share)} ${f.name}`).join(', ');

/** Lines for a scenario's findings: the busy share, then the top functions, files and packages by self time. */
export function profileFindings(summary: ProfileSummary, topFunctions = 10, topFiles = 6): string[] {
  return [
    `profile: busy ${(summary.busyMs / 1000).toFixed(1)} s of ${(summary.wallMs / 1000).toFixed(1)} s on the main thread; top self time:`,
    ...summary.functions.slice(0, topFunctions).map((f) => `profile: ${percent(f.share)} ${f.name}`),
    `profile: by file: ${shares(summary.files.slice(0, topFiles))}`,
    `profile: by package: ${shares(summary.packages.slice(0, topFiles))}`,
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [path, top] = process.argv.slice(2);
  if (!path) {
    console.error('usage: tsx bench/lib/profile-summary.ts <file.cpuprofile> [top=15]');
    process.exit(2);
  }
  const summary = summarizeProfileFile(path, Number(top ?? 15));
  console.log(profileFindings(summary, summary.functions.length, summary.files.length).join('\n'));
}
