import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { REPO_ROOT } from './child-weir.js';

/** What the figures were measured on, for the report: they mean little without it. */
export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** 1-minute load average when the bench started: how noisy the machine was. */
  loadAverage: number;
  commit: string;
  /** Uncommitted changes to tracked files (other than bench results) when the bench ran. */
  dirty: boolean;
}

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export function machineInfo(): MachineInfo {
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  const status = git('status', '--porcelain', '--untracked-files=no').split('\n');
  return {
    nproc: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAverage: Math.round(loadavg()[0] * 100) / 100,
    commit: git('rev-parse', '--short=12', 'HEAD') || 'unknown',
    dirty: status.some((line) => line.trim() !== '' && !line.includes('bench/results/') && !line.endsWith('README.md')),
  };
}

/** `2 × AMD EPYC, 23.5 GiB, Linux 6.1, node v20.20.2, commit abc123` */
export function describeMachine(m: MachineInfo): string {
  return `${m.nproc} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, node ${m.node}, load ${m.loadAverage} at start, commit ${m.commit}${m.dirty ? ' (with uncommitted changes)' : ''}`;
}
