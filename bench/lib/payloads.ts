import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRemoteWrite } from '../../src/remote-write/index.js';
import { countWriteRequest, type RemoteWriteVersion } from '../../src/remote-write/types.js';
import type { Payload } from './loadgen.js';

/**
 * Payloads from files: the real corpus (remote-write 1.0 bodies a Prometheus 2.42 sent) or any
 * directory of `*.snappy` bodies.
 */

/** The headers a sender of each version sets (as Prometheus 2.42 did for the corpus, for 1.0). */
export const REMOTE_WRITE_HEADERS: Readonly<Record<RemoteWriteVersion, Readonly<Record<string, string>>>> = {
  '1.0': { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' },
  '2.0': {
    'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': '2.0.0',
  },
};

/**
 * Every `*.snappy` body of `dir`, in file-name order, with its sample and series counts. The counts
 * come from decoding each body once here (not from a manifest), so any directory of bodies works.
 */
export function loadPayloadDir(dir: string, version: RemoteWriteVersion = '1.0'): Payload[] {
  const files = readdirSync(dir).filter((file) => file.endsWith('.snappy')).sort();
  if (files.length === 0) throw new Error(`no *.snappy bodies in ${dir}`);
  return files.map((file) => {
    const body = readFileSync(join(dir, file));
    const decoded = decodeRemoteWrite(body, { version, maxDecodedBytes: 256 << 20 });
    return { body, headers: REMOTE_WRITE_HEADERS[version], samples: countWriteRequest(decoded).samples, series: decoded.timeseries.length, name: file };
  });
}

export function totals(payloads: readonly Payload[]): { requests: number; samples: number; series: number; bytes: number } {
  let samples = 0;
  let series = 0;
  let bytes = 0;
  for (const p of payloads) {
    samples += p.samples;
    series += p.series;
    bytes += p.body.length;
  }
  return { requests: payloads.length, samples, series, bytes };
}
