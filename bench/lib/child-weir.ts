/**
 * Weir as a child process, run from the built dist/ as an operator runs it
 * (`node dist/cli/main.js run topology/<file>.yaml`), on a free port of 127.0.0.1 with a temporary
 * data directory. `startChildWeir` resolves once `/-/ready` answers 200; `stop()` sends SIGTERM,
 * waits for the drain, and kills it if it takes too long. A child still running when the bench
 * process exits is killed with it. `createScratch` gives a run fresh names (topic, consumer group,
 * database, Redis prefix) for the production topologies and removes them afterwards; `cpuMeter`
 * tells how busy weir, the services and the rest of the (shared) machine were meanwhile.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import { deletePrefix } from '../../test/redis/support.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(REPO_ROOT, 'dist/cli/main.js');

export interface ChildWeirOptions {
  /** Topology file, relative to the repository root or absolute. */
  topology: string;
  /** WEIR_* variables for the topology and the service (on top of this process' environment). */
  env?: Record<string, string>;
  /** How long to wait for /-/ready (ms). */
  readyTimeout?: number;
  /** Extra node flags, e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
}

export interface ChildWeir {
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last lines the child wrote (JSON logs at warn and above), for error messages. */
  output(): string;
  /** How the child ended (exit code or signal), or undefined while it runs. */
  exited(): number | string | undefined;
  /** SIGTERM, then SIGKILL after `timeout` ms; removes the data directory. Idempotent. */
  stop(timeout?: number): Promise<void>;
}

const running = new Map<ChildProcess, string>();
const killAll = () => {
  for (const [child, dataDir] of running) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
};
process.once('exit', killAll);
// A signal ends the bench without 'exit': take the children along, then die as the signal says
// (unless someone else, e.g. the runner, handles it).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/** `npm run build` (the runner does it once; a standalone scenario calls this). */
export async function buildWeir(): Promise<void> {
  await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, maxBuffer: 16 * 2 ** 20 });
}

/** A port nothing listens on right now (the OS picks it, we let it go). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startChildWeir(options: ChildWeirOptions): Promise<ChildWeir> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'run', options.topology], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      WEIR_LOG__LEVEL: 'warn',
      WEIR_SHUTDOWN__DRAIN_TIMEOUT: '10s',
      ...options.env,
      WEIR_HTTP__HOST: '127.0.0.1',
      WEIR_HTTP__PORT: String(port),
      WEIR_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.set(child, dataDir);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitCode: number | string | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal;
      running.delete(child);
      resolve();
    }),
  );

  const url = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const handle: ChildWeir = {
    url,
    pid: child.pid!,
    child,
    output: () => lines.join('\n'),
    exited: () => exitCode ?? undefined,
    stop(timeout = 15_000) {
      stopped ??= (async () => {
        if (exitCode === undefined) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };

  const deadline = Date.now() + (options.readyTimeout ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) {
      await handle.stop();
      throw new Error(`weir (${options.topology}) exited with ${exitCode} before it was ready:\n${handle.output()}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.status === 200, () => false);
    if (ready) return handle;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`weir (${options.topology}) not ready within ${options.readyTimeout ?? 60_000} ms:\n${handle.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** In a Prometheus text exposition: the sum of metric `name`'s samples whose labels include `labels`. */
export function scrapeValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (!Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

// ---- CPU of the processes under test ----------------------------------------------------------

/** User + system CPU seconds a process has used so far (0 when it cannot be read). */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/** Busy, I/O-wait and total CPU seconds of the whole machine so far (all cores), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; iowait: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
  return { busy: (total - ticks[3] - ticks[4]) / 100, iowait: ticks[4] / 100, total: total / 100 };
}

export interface CpuReading {
  /** Per named process: CPU used over the interval, in % of one core. */
  processes: Record<string, number>;
  /** The whole machine: busy share of all cores, in %. */
  machineBusy: number;
  /** The whole machine: share of all cores idle while waiting for disk I/O, in %. */
  machineIowait: number;
  /** CPU used by everything but the named processes (other work on a shared machine), in % of one core. */
  others: number;
}

/** Starts measuring; the function returned reads the CPU used since. */
export function cpuMeter(pids: Record<string, number | undefined>): () => CpuReading {
  const started = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const machine = machineCpuSeconds();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const now = machineCpuSeconds();
    const processes = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, (100 * (cpuSeconds(pid) - before[name])) / seconds]));
    const elapsed = Math.max(0.01, now.total - machine.total);
    const machineBusy = (100 * (now.busy - machine.busy)) / elapsed;
    const machineIowait = (100 * (now.iowait - machine.iowait)) / elapsed;
    const named = Object.values(processes).reduce((a, b) => a + b, 0);
    return { processes, machineBusy, machineIowait, others: Math.max(0, machineBusy * availableParallelism() - named) };
  };
}

/** Pids of the local services' processes, where they run on this machine: MariaDB, the Kafka broker, Redis. */
export function servicePids(): { mariadb?: number; kafka?: number; redis?: number } {
  const pids: { mariadb?: number; kafka?: number; redis?: number } = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'mariadbd' || comm === 'mysqld') pids.mariadb ??= Number(entry);
      else if (comm === 'redis-server' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(':6379')) pids.redis ??= Number(entry);
      else if (comm === 'java' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('kafka.Kafka')) pids.kafka ??= Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

// ---- the scratch topic, consumer group, database and Redis prefix a child runs on ---------------

export interface Scratch {
  topic: string;
  group: string;
  database: string;
  redisPrefix: string;
  /** The topologies' WEIR_* variables for these names and the services' addresses. */
  env: Record<string, string>;
  /** Sum over partitions of the group's committed offsets on the topic (0 before any commit). */
  committed(): Promise<number>;
  /** Run `sql` on the scratch database (e.g. a COUNT). */
  query<T>(sql: string): Promise<T[]>;
  /** Deletes the topic, the group, the database and the Redis keys; never throws. */
  cleanup(): Promise<void>;
}

export const serviceUrls = () => ({
  kafkaBrokers: process.env.WEIR_KAFKA_BROKERS ?? '127.0.0.1:19092',
  mysqlUrl: process.env.WEIR_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306',
  redisUrl: process.env.WEIR_REDIS_URL ?? 'redis://127.0.0.1:6379',
});

/** Fresh names for one run (`tag` in each), and the clients to watch and clean them up. */
export async function createScratch(tag: string): Promise<Scratch> {
  const { kafkaBrokers, mysqlUrl, redisUrl } = serviceUrls();
  const suffix = randomBytes(4).toString('hex');
  const names = {
    topic: `weir.bench.${tag}.${suffix}`,
    group: `weir-bench-${tag}-${suffix}`,
    database: `weir_bench_${suffix}`,
    redisPrefix: `weir:bench:${tag}:${suffix}`,
  };
  const kafka = new Kafka({ clientId: 'weir-bench', brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const mysqlConnection = await mysql.createConnection({ uri: mysqlUrl, multipleStatements: false });
  return {
    ...names,
    env: {
      WEIR_KAFKA_BROKERS: kafkaBrokers,
      WEIR_MYSQL_URL: mysqlUrl,
      WEIR_REDIS_URL: redisUrl,
      WEIR_SERIES_TOPIC: names.topic,
      WEIR_INDEXER_GROUP: names.group,
      WEIR_MYSQL_DATABASE: names.database,
      WEIR_REDIS_PREFIX: names.redisPrefix,
    },
    async committed() {
      // The group coordinator may move or still be loading (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS):
      // kafkajs marks those retriable; a watcher asks again rather than failing the run.
      for (let attempt = 1; ; attempt++) {
        try {
          const [topic] = await admin.fetchOffsets({ groupId: names.group, topics: [names.topic] });
          return (topic?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
        } catch (err) {
          if (attempt >= 10 || (err as { retriable?: unknown }).retriable !== true) throw err;
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      }
    },
    async query<T>(sql: string) {
      const [rows] = await mysqlConnection.query(`USE \`${names.database}\``).then(() => mysqlConnection.query(sql));
      return rows as T[];
    },
    async cleanup() {
      const quietly = (work: () => Promise<unknown>) => work().catch(() => undefined);
      await quietly(() => admin.deleteTopics({ topics: [names.topic], timeout: 10_000 }));
      // A member that died without leaving keeps the group non-empty until its session times out (30 s).
      for (let attempt = 0; attempt < 20; attempt++) {
        const deleted = await admin.deleteGroups([names.group]).then(
          () => true,
          (err: { groups?: Array<{ errorCode?: number }> }) => !err.groups?.some((g) => g.errorCode === 68), // 68: NON_EMPTY_GROUP
        );
        if (deleted) break;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
      await quietly(() => admin.disconnect());
      await quietly(() => mysqlConnection.query(`DROP DATABASE IF EXISTS \`${names.database}\``));
      await quietly(() => mysqlConnection.end());
      await quietly(async () => {
        const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
        try {
          await redis.connect();
          await deletePrefix(redis, names.redisPrefix);
        } finally {
          redis.disconnect();
        }
      });
    },
  };
}
