import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, silentLogger, type LogLevel } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import type { Registry } from '../../src/topology/registry.js';

export interface TestWeir {
  service: RunningService;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * A real weir listening on a free port of 127.0.0.1, with its own data directory, running a
 * topology file or topology text. Stops and cleans up with `stop()`.
 */
export async function startTestWeir(options: { topologyFile?: string; topologyText?: string; registry?: Registry; env?: Record<string, string> }): Promise<TestWeir> {
  const dataDir = mkdtempSync(join(tmpdir(), 'weir-test-'));
  let topologyFile = options.topologyFile;
  if (options.topologyText !== undefined) {
    topologyFile = join(dataDir, 'topology.yaml');
    writeFileSync(topologyFile, options.topologyText);
  }
  if (!topologyFile) throw new Error('startTestWeir needs topologyFile or topologyText');
  const service = await startService({
    topologyFile,
    registry: options.registry,
    // WEIR_TEST_LOG=debug shows the service's logs when a test needs explaining.
    logger: process.env.WEIR_TEST_LOG ? createLogger({ level: process.env.WEIR_TEST_LOG as LogLevel }) : silentLogger(),
    env: { ...process.env, ...options.env },
    overrides: { http: { host: '127.0.0.1', port: 0 }, data_dir: dataDir, shutdown: { drain_timeout: 5000 } },
  });
  return {
    service,
    url: service.url!,
    dataDir,
    async stop() {
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const remoteWriteHeaders = {
  v1: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' },
  v2: { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '2.0.0' },
} as const;

export async function postWrite(url: string, body: Uint8Array, headers: Record<string, string> = remoteWriteHeaders.v1): Promise<Response> {
  return fetch(`${url}/api/v1/write`, { method: 'POST', body, headers });
}

export async function getJson<T = any>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}
