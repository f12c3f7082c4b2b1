import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT, startChildWeir } from './child-weir.js';

/**
 * The servers under test behind one shape, each a child process whose PID is the server itself
 * (node running dist/, not npm or tsx; vmagent's own binary), so that /proc meters it and nothing
 * else. All listen on 127.0.0.1 only.
 */

export const VMAGENT_BINARY = '/usr/bin/vmagent';

export interface RunningServer {
  name: string;
  pid: number;
  /** The remote-write endpoint. */
  writeUrl: string;
  /** Base URL (http://127.0.0.1:<port>). */
  baseUrl: string;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; removes the server's temp directory. */
  stop(graceMs?: number): Promise<void>;
}

export interface WeirOptions {
  /** Topology file, relative to the repository root, e.g. topology/embedded.yaml. */
  topology: string;
  /** Extra environment (topology variables such as WEIR_SERIES_TOPIC). */
  env?: Record<string, string>;
  /** Node flags before the script, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeFlags?: string[];
}

/**
 * weir from the built dist/ (`npm run build` first) on a free port, temp data directory, log level
 * warn (child-weir.ts); resolves once /-/ready answers 200.
 */
export async function startWeir({ topology, env = {}, nodeFlags = [] }: WeirOptions): Promise<RunningServer> {
  const child = await startChildWeir({ topology, env, nodeArgs: nodeFlags });
  return {
    name: `weir ${topology}`,
    pid: child.pid,
    baseUrl: child.url,
    writeUrl: `${child.url}/api/v1/write`,
    output: () => child.output(),
    stop: (graceMs) => child.stop(graceMs),
  };
}

// Peers still running when the bench process exits (an error, Ctrl-C) go with it.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Keeps the last lines a child wrote to stdout and stderr. */
function tailOf(child: ChildProcess, maxLines = 40): () => string {
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => lines.join('\n');
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (!hasExited(child)) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  children.delete(child);
}

function spawnTracked(command: string, args: string[], cwd: string): ChildProcess {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return child;
}

/** Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. */
async function waitUntilReady(child: ChildProcess, name: string, url: string, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`);
    const ready = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.arrayBuffer().then(() => res.ok),
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopChild(child, 2_000);
  throw new Error(`${name} was not ready at ${url} within ${timeoutMs} ms:\n${output()}`);
}

function running(name: string, child: ChildProcess, port: number, output: () => string, tempDir?: string): RunningServer {
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    name,
    pid: child.pid,
    baseUrl,
    writeUrl: `${baseUrl}/api/v1/write`,
    output,
    async stop(graceMs = 20_000) {
      await stopChild(child, graceMs);
      if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

/** The discard endpoint (bench/lib/discard-server.ts) in a node process of its own. */
export async function startDiscard(): Promise<RunningServer> {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'lib', 'discard-server.ts'), '0'], REPO_ROOT);
  const output = tailOf(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`discard server did not start:\n${output()}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString('utf8'));
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`discard server exited (${code}):\n${output()}`)));
  });
  return running('discard', child, port, output);
}

/**
 * vmagent (Debian's 1.79, scripts/install-vmagent.sh) accepting remote write and forwarding to
 * `forwardUrl`. Without -promscrape.config it scrapes nothing, so it does only what it is sent;
 * its persistent queue lives in a temp directory.
 */
export async function startVmagent(forwardUrl: string): Promise<RunningServer> {
  if (!existsSync(VMAGENT_BINARY)) throw new Error(`${VMAGENT_BINARY} is missing: run bash scripts/install-vmagent.sh`);
  const port = await freePort();
  const tempDir = mkdtempSync(join(tmpdir(), 'weir-bench-vmagent-'));
  const args = [`-httpListenAddr=127.0.0.1:${port}`, `-remoteWrite.url=${forwardUrl}`, `-remoteWrite.tmpDataPath=${tempDir}`, '-loggerLevel=ERROR'];
  const child = spawnTracked(VMAGENT_BINARY, args, tempDir);
  const output = tailOf(child);
  await waitUntilReady(child, 'vmagent', `http://127.0.0.1:${port}/health`, output);
  return running('vmagent', child, port, output, tempDir);
}

/** Stops every server given, ignoring those already stopped; errors do not hide later stops. */
export async function stopAll(servers: Array<RunningServer | undefined>): Promise<void> {
  await Promise.allSettled(servers.filter((s): s is RunningServer => s !== undefined).map((s) => s.stop()));
}
