import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeWriteRequestV1Reference } from '../remote-write/reference-codec.test-support.js';
import { decompressSnappy } from '../remote-write/snappy.js';
import { encodeV1, series } from './fake-receiver.test-support.js';
import { RemoteWriteClient } from './remote-write-client.js';
import type { RemoteWriteError } from './remote-write-error.js';
import { ShardQueues } from './shard-queues.js';
import type { PermanentFailure } from './types.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/**
 * A receiver on 127.0.0.1 that answers 503 to every third request, 400 to any request holding
 * series 13, and records the samples of the requests it took (204).
 */
async function flakyReceiver() {
  const bySeries = new Map<number, number[]>();
  let requests = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const decoded = decodeWriteRequestV1Reference(decompressSnappy(Buffer.concat(chunks), 1 << 24));
      const ids = decoded.timeseries.map((s) => Number(s.labels[1].value));
      if (requests % 3 === 0) return void res.writeHead(503).end('try again');
      if (ids.includes(13)) return void res.writeHead(400).end('series 13 is out of order');
      for (const s of decoded.timeseries) {
        const id = Number(s.labels[1].value);
        bySeries.set(id, [...(bySeries.get(id) ?? []), ...s.samples.map((x) => x.timestamp)]);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, bySeries };
}

describe('ShardQueues over the HTTP client', () => {
  it('delivers every sample in order through 503s, and hands the refused ones to the failure callback', async () => {
    const receiver = await flakyReceiver();
    const client = new RemoteWriteClient({ url: receiver.url, protocol: 'v1', timeoutMs: 5_000 });
    cleanups.push(() => client.close());
    const failures: PermanentFailure[] = [];
    const queues = new ShardQueues({
      shards: 3,
      capacity: 40,
      maxSamplesPerSend: 20,
      batchSendDeadlineMs: 20,
      encode: encodeV1,
      send: (body) => client.send(body),
      onPermanentFailure: (f) => void failures.push(f),
    });
    // Series 13 goes to shard 1 (13 % 3) and no other series does, so only its requests are refused.
    const ids = [0, 2, 3, 5, 6, 8];
    const deliveries: Array<Promise<void>> = [];
    for (let t = 1; t <= 50; t++) {
      const { admitted, delivered } = queues.enqueue(ids.map((id) => series(id, t)));
      deliveries.push(delivered);
      const refused = queues.enqueue([series(13, t)]);
      deliveries.push(refused.delivered);
      await admitted;
      await refused.admitted;
    }
    await Promise.all(deliveries);
    await queues.close();

    const expected = Array.from({ length: 50 }, (_, i) => i + 1);
    for (const id of ids) expect(receiver.bySeries.get(id)).toEqual(expected);
    expect(receiver.bySeries.has(13)).toBe(false);
    const refusedSamples = failures.flatMap((f) => f.series.flatMap((s) => s.samples.map((x) => [s.labels[1].value, x.timestamp])));
    expect(new Set(refusedSamples.map(([id]) => id))).toEqual(new Set(['13']));
    expect(refusedSamples).toHaveLength(50);
    expect(failures.every((f) => (f.error as RemoteWriteError).status === 400)).toBe(true);
    expect(queues.pendingSamples).toBe(0);
  });
});
