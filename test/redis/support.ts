import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';

const run = promisify(execFile);

/** A port nothing listens on right now (the OS picks it, we let it go). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A private redis-server (no persistence) owned by the test or benchmark: its own commandstats and
 * used_memory, and one the test may shut down and start again to play an outage.
 */
export class ThrowawayRedis {
  private child: ChildProcess | undefined;

  /** `args`: more redis-server options, e.g. `['--requirepass', 'secret']` (redis-cli then authenticates too). */
  private constructor(
    readonly port: number,
    private readonly args: readonly string[] = [],
  ) {}

  static async start(port?: number, args: readonly string[] = []): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(port ?? (await freePort()), args);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', ...this.args], {
      stdio: 'ignore',
    });
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 10_000;
    while (!(await this.cli('ping').then((out) => out === 'PONG', () => false))) {
      if (!this.child) throw new Error(`redis-server on port ${this.port} exited at start`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** `SHUTDOWN NOSAVE`, as an operator would; the process is killed if it has not exited in 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await this.cli('shutdown', 'nosave').catch(() => undefined); // the server closes the connection
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async cli(...args: string[]): Promise<string> {
    const password = this.args.indexOf('--requirepass');
    const auth = password < 0 ? [] : ['-a', this.args[password + 1], '--no-auth-warning'];
    const { stdout } = await run('redis-cli', ['-p', String(this.port), ...auth, ...args], { timeout: 5000 });
    return stdout.trim();
  }
}

/** The shared Redis the integration suites use (scripts/services.sh exports it). */
export const REDIS_URL = process.env.WEIR_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Polls `condition` every 20 ms until it holds; fails after `ms`. Returns how long it took. */
export async function waitFor(condition: () => boolean | Promise<boolean>, ms: number, what = 'condition'): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`${what}: not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

/** The value of a prom-client metric with these labels, or undefined. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

/** Deletes every key under `prefix:`. */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
