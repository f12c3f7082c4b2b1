import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Meters of another process, read from /proc: its CPU time and its peak resident memory. CPU time
 * of the server process, not wall time, is what the benchmark divides by: on a noisy 2-core machine
 * shared with the load generator, throughput per CPU-second holds where wall throughput does not.
 */

let clockTicks: number | undefined;

/** `getconf CLK_TCK`: the unit of utime/stime in /proc/<pid>/stat (100 on Linux almost always). */
export function clockTicksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!Number.isFinite(clockTicks) || clockTicks <= 0) throw new Error(`getconf CLK_TCK gave "${clockTicks}"`);
  return clockTicks;
}

/**
 * utime + stime of the whole process (every thread: the thread-group leader's stat sums them), in
 * seconds. Children's time is left out: a server under test is one process.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (field 14) and stime (field 15) are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond();
}

function statusKib(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${key} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Peak resident set (VmHWM) since start or since the last `resetPeakRss`, in MiB. */
export function peakRssMiB(pid: number): number {
  return statusKib(pid, 'VmHWM') / 1024;
}

/**
 * Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`), so that the peak read after
 * a run is that run's. Needs the same user or root; false (and the peak since start) otherwise.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface IdleOptions {
  /** Length of one observation window. */
  windowMs?: number;
  /** Idle when the process used at most this share of one core over a window. */
  maxCoreShare?: number;
  /** Give up (and go on) after this long. */
  timeoutMs?: number;
}

/**
 * Waits until the process has (nearly) stopped using CPU. Called after a load ends so that work a
 * server does after answering (vmagent forwards what it accepted asynchronously) is counted, and
 * before a run so that the previous run's tail is not. Returns whether it became idle in time.
 */
export async function waitForIdle(pid: number, { windowMs = 300, maxCoreShare = 0.05, timeoutMs = 10_000 }: IdleOptions = {}): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  // At 100 ticks/s a window must be long enough to tell 5% of a core from one stray tick.
  const maxSeconds = Math.max((maxCoreShare * windowMs) / 1000, 1.5 / clockTicksPerSecond());
  let before = cpuSeconds(pid);
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = cpuSeconds(pid);
    if (now - before <= maxSeconds) return true;
    before = now;
  }
  return false;
}

export interface ProcessMeter {
  /** CPU seconds and peak RSS (MiB) since the meter was started. */
  stop(): { cpuSeconds: number; peakRssMiB: number };
}

/** Starts metering a process: CPU time from now, peak RSS from now where the kernel allows a reset. */
export function meterProcess(pid: number): ProcessMeter {
  resetPeakRss(pid);
  const startCpu = cpuSeconds(pid);
  return {
    stop: () => ({ cpuSeconds: cpuSeconds(pid) - startCpu, peakRssMiB: peakRssMiB(pid) }),
  };
}
