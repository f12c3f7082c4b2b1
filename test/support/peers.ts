import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Real Prometheus peers for integration tests: Debian's node-exporter and Prometheus (installed by
 * scripts/install-peers.sh), run from their binaries on free ports of 127.0.0.1 with a temp data dir.
 */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const NODE_EXPORTER_BIN = '/usr/bin/prometheus-node-exporter';

export interface PeerProcess {
  name: string;
  url: string;
  /** The last lines the process wrote to stdout and stderr, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export interface RemoteWritingPrometheus extends PeerProcess {
  nodeExporter: PeerProcess;
  externalLabels: Record<string, string>;
  /** Job name → the instance label of its one target. */
  targets: Record<string, string>;
  /** Stops Prometheus (which flushes its remote-write queue first), then node-exporter. */
  stop(): Promise<void>;
}

export interface PrometheusPeerOptions {
  /** Where Prometheus remote-writes, e.g. `${weir.url}/api/v1/write`. */
  remoteWriteUrl: string;
  scrapeInterval?: string;
  externalLabels?: Record<string, string>;
}

/** A port that was free a moment ago; the peers bind it right away, so the race is only theoretical. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from an ephemeral listen');
  return address.port;
}

/**
 * node-exporter on 127.0.0.1 and a Prometheus that scrapes itself and it every `scrapeInterval` and
 * remote-writes everything, metadata included, to `remoteWriteUrl`. Resolves once both answer ready.
 */
export async function startRemoteWritingPrometheus(options: PrometheusPeerOptions): Promise<RemoteWritingPrometheus> {
  const { remoteWriteUrl, scrapeInterval = '1s', externalLabels = { cluster: 'weir-test', replica: 'a' } } = options;
  const nodeExporter = await startNodeExporter();
  try {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const targets = { prometheus: address, node: new URL(nodeExporter.url).host };
    const dataDir = mkdtempSync(join(tmpdir(), 'weir-prometheus-'));
    const configFile = join(dataDir, 'prometheus.yml');
    // JSON is YAML: no YAML writer needed, and every value is quoted correctly.
    const config = {
      global: { scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval, evaluation_interval: scrapeInterval, external_labels: externalLabels },
      scrape_configs: Object.entries(targets).map(([job, target]) => ({ job_name: job, static_configs: [{ targets: [target] }] })),
      remote_write: [
        {
          url: remoteWriteUrl,
          queue_config: { batch_send_deadline: '1s', max_samples_per_send: 500 },
          metadata_config: { send: true, send_interval: '2s' },
        },
      ],
    };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const prometheus = spawnPeer('prometheus', PROMETHEUS_BIN, [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dataDir, 'tsdb')}`,
      `--web.listen-address=${address}`,
      '--log.level=info',
    ], `http://${address}`, () => rmSync(dataDir, { recursive: true, force: true }));
    try {
      await waitReady(prometheus, `${prometheus.url}/-/ready`);
    } catch (err) {
      await prometheus.stop();
      throw err;
    }
    return {
      ...prometheus,
      nodeExporter,
      externalLabels,
      targets,
      async stop() {
        try {
          await prometheus.stop();
        } finally {
          await nodeExporter.stop();
        }
      },
    };
  } catch (err) {
    await nodeExporter.stop();
    throw err;
  }
}

export async function startNodeExporter(): Promise<PeerProcess> {
  const address = `127.0.0.1:${await freePort()}`;
  const peer = spawnPeer('node-exporter', NODE_EXPORTER_BIN, [`--web.listen-address=${address}`, '--log.level=warn'], `http://${address}`);
  try {
    await waitReady(peer, `${peer.url}/metrics`);
  } catch (err) {
    await peer.stop();
    throw err;
  }
  return peer;
}

interface SpawnedPeer extends PeerProcess {
  /** Set once the process has exited, with how. */
  exited(): string | undefined;
}

function spawnPeer(name: string, binary: string, args: string[], url: string, cleanup: () => void = () => {}): SpawnedPeer {
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (tail.length > 200) tail.splice(0, tail.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      exit = `failed to start: ${err.message}`;
      resolve();
    });
  });
  return {
    name,
    url,
    logs: () => tail.join('\n'),
    exited: () => exit,
    async stop() {
      try {
        if (exit === undefined) {
          child.kill('SIGTERM');
          // Prometheus flushes its remote-write queue on shutdown; give it time, then insist.
          const patience = new AbortController();
          const stopped = await Promise.race([exited.then(() => true), delay(20_000, false, { signal: patience.signal }).catch(() => false)]);
          patience.abort();
          if (!stopped) {
            child.kill('SIGKILL');
            await exited;
          }
        }
      } finally {
        cleanup();
      }
    },
  };
}

async function waitReady(peer: SpawnedPeer, readyUrl: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const exit = peer.exited();
    if (exit !== undefined) throw new Error(`${peer.name} ${exit} before it was ready:\n${peer.logs()}`);
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await delay(100);
  }
  throw new Error(`${peer.name} not ready at ${readyUrl} within ${timeoutMs} ms (${last}):\n${peer.logs()}`);
}
