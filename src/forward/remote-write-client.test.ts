import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { decodeWriteRequestV1Reference, decodeWriteRequestV2Reference, encodeWriteRequestV1, encodeWriteRequestV2 } from '../remote-write/reference-codec.test-support.js';
import { decompressSnappy } from '../remote-write/snappy.js';
import type { WriteRequest } from '../remote-write/types.js';
import { RemoteWriteClient, retryAfterMsOf, type RemoteWriteClientOptions } from './remote-write-client.js';
import { RemoteWriteError } from './remote-write-error.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Which connection it came on (1-based). */
  connection: number;
}

type Answer = (received: Received, response: http.ServerResponse) => void;

/** A receiver on 127.0.0.1 that records what it got and answers as the test says. */
async function startReceiver(answer: Answer = (_, res) => res.writeHead(204).end()) {
  const received: Received[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks), connection: (req.socket as unknown as { id: number }).id };
      received.push(r);
      answer(r, res);
    });
  });
  server.on('connection', (socket) => {
    (socket as unknown as { id: number }).id = ++connections;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  const close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return { url, received, close };
}

const request: WriteRequest = {
  version: '1.0',
  timeseries: [
    { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'node' }], samples: [{ value: 1, timestamp: 1_700_000_000_000 }, { value: 0, timestamp: 1_700_000_015_000 }], exemplars: [], histograms: [] },
    { labels: [{ name: '__name__', value: 'http_requests_total' }, { name: 'code', value: '200' }], samples: [{ value: 42.5, timestamp: 1_700_000_000_000 }], exemplars: [], histograms: [] },
  ],
  metadata: [],
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setup(answer?: Answer, options: Partial<RemoteWriteClientOptions> = {}) {
  const receiver = await startReceiver(answer);
  const client = new RemoteWriteClient({ url: receiver.url, protocol: 'v1', timeoutMs: 5_000, ...options });
  cleanups.push(receiver.close, () => client.close());
  return { receiver, client };
}

async function refusal(promise: Promise<void>): Promise<RemoteWriteError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RemoteWriteError);
  return err as RemoteWriteError;
}

describe('RemoteWriteClient', () => {
  it('POSTs a 1.0 body snappy-compressed with the 1.0 headers', async () => {
    const { receiver, client } = await setup();
    await client.send(encodeWriteRequestV1(request));
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got.headers['content-type']).toBe('application/x-protobuf');
    expect(got.headers['content-encoding']).toBe('snappy');
    expect(got.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
    expect(got.headers['content-length']).toBe(String(got.body.length));
    expect(got.headers.authorization).toBeUndefined();
    const decoded = decodeWriteRequestV1Reference(decompressSnappy(got.body, 1 << 20));
    expect(decoded.timeseries.map((s) => [s.labels, s.samples])).toEqual(request.timeseries.map((s) => [s.labels, s.samples]));
  });

  it('POSTs a 2.0 body with the 2.0 content type and version', async () => {
    const { receiver, client } = await setup(undefined, { protocol: 'v2' });
    await client.send(encodeWriteRequestV2({ ...request, version: '2.0' }));
    const [got] = receiver.received;
    expect(got.headers['content-type']).toBe('application/x-protobuf;proto=io.prometheus.write.v2.Request');
    expect(got.headers['content-encoding']).toBe('snappy');
    expect(got.headers['x-prometheus-remote-write-version']).toBe('2.0.0');
    const decoded = decodeWriteRequestV2Reference(decompressSnappy(got.body, 1 << 20));
    expect(decoded.timeseries.map((s) => s.samples)).toEqual(request.timeseries.map((s) => s.samples));
  });

  it('sends basic auth, bearer auth and extra headers', async () => {
    const basic = await setup(undefined, { auth: { basic: { username: 'weir', password: 'sécret:x' } }, headers: { 'X-Scope-OrgID': 'team-a' } });
    await basic.client.send(encodeWriteRequestV1(request));
    const [got] = basic.receiver.received;
    expect(got.headers.authorization).toBe(`Basic ${Buffer.from('weir:sécret:x').toString('base64')}`);
    expect(got.headers['x-scope-orgid']).toBe('team-a');

    const bearer = await setup(undefined, { auth: { bearerToken: 't0ken' } });
    await bearer.client.send(encodeWriteRequestV1(request));
    expect(bearer.receiver.received[0].headers.authorization).toBe('Bearer t0ken');
  });

  it('refuses extra headers that would replace the protocol headers, and urls that are not http(s)', () => {
    const options = { url: 'http://127.0.0.1:1/api/v1/write', protocol: 'v1' as const, timeoutMs: 1_000 };
    expect(() => new RemoteWriteClient({ ...options, headers: { 'Content-Encoding': 'gzip' } })).toThrow(ConfigError);
    expect(() => new RemoteWriteClient({ ...options, headers: { Authorization: 'x' } })).toThrow(ConfigError);
    expect(() => new RemoteWriteClient({ ...options, url: 'ftp://127.0.0.1/' })).toThrow(ConfigError);
  });

  it('resolves on any 2xx', async () => {
    const { client } = await setup((_, res) => res.writeHead(200).end('ok'));
    await expect(client.send(encodeWriteRequestV1(request))).resolves.toBeUndefined();
  });

  it('reuses one keep-alive connection for requests in sequence', async () => {
    const { receiver, client } = await setup();
    for (let i = 0; i < 3; i++) await client.send(encodeWriteRequestV1(request));
    expect(receiver.received.map((r) => r.connection)).toEqual([1, 1, 1]);
  });

  it('a 400 is permanent, with the status and the answer', async () => {
    const { client } = await setup((_, res) => res.writeHead(400).end('out of order sample\n'));
    const err = await refusal(client.send(encodeWriteRequestV1(request)));
    expect(err.retriable).toBe(false);
    expect(err.status).toBe(400);
    expect(err.answer).toBe('out of order sample');
    expect(err.message).toContain('HTTP 400: out of order sample');
    expect(err.message).toContain('/api/v1/write');
  });

  it('keeps only the start of a long answer', async () => {
    const { client } = await setup((_, res) => res.writeHead(422).end('x'.repeat(100_000)), { maxAnswerBytes: 100 });
    const err = await refusal(client.send(encodeWriteRequestV1(request)));
    expect(err.retriable).toBe(false);
    expect(err.answer).toBe('x'.repeat(100));
  });

  it('other 4xx are permanent too', async () => {
    for (const status of [401, 403, 404, 413, 415]) {
      const { client } = await setup((_, res) => res.writeHead(status).end());
      const err = await refusal(client.send(encodeWriteRequestV1(request)));
      expect([err.status, err.retriable]).toEqual([status, false]);
    }
  });

  it('5xx is retriable, with the Retry-After delay when given', async () => {
    let answer = 0;
    const { client } = await setup((_, res) => {
      answer++;
      if (answer === 1) res.writeHead(500).end('boom');
      else res.writeHead(503, { 'retry-after': '7' }).end();
    });
    const first = await refusal(client.send(encodeWriteRequestV1(request)));
    expect([first.status, first.retriable, first.retryAfterMs, first.answer]).toEqual([500, true, undefined, 'boom']);
    const second = await refusal(client.send(encodeWriteRequestV1(request)));
    expect([second.status, second.retriable, second.retryAfterMs]).toEqual([503, true, 7_000]);
  });

  it('429 is retriable, with Retry-After in seconds or as an HTTP date', async () => {
    let answer = 0;
    const { client } = await setup((_, res) => {
      answer++;
      const retryAfter = answer === 1 ? '2' : new Date(Date.now() + 30_000).toUTCString();
      res.writeHead(429, { 'retry-after': retryAfter }).end('slow down');
    });
    const seconds = await refusal(client.send(encodeWriteRequestV1(request)));
    expect([seconds.status, seconds.retriable, seconds.retryAfterMs]).toEqual([429, true, 2_000]);
    const date = await refusal(client.send(encodeWriteRequestV1(request)));
    expect(date.retriable).toBe(true);
    // An HTTP date has whole seconds: 29-30 s from now.
    expect(date.retryAfterMs).toBeGreaterThan(28_000);
    expect(date.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('a receiver that does not answer in time is retriable', async () => {
    const { client } = await setup(() => undefined, { timeoutMs: 150 });
    const started = Date.now();
    const err = await refusal(client.send(encodeWriteRequestV1(request)));
    expect(err.retriable).toBe(true);
    expect(err.status).toBeUndefined();
    expect(err.message).toContain('no answer within 150 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a connection refused or cut is retriable', async () => {
    const receiver = await startReceiver();
    await receiver.close();
    const client = new RemoteWriteClient({ url: receiver.url, protocol: 'v1', timeoutMs: 5_000 });
    cleanups.push(() => client.close());
    const refused = await refusal(client.send(encodeWriteRequestV1(request)));
    expect(refused.retriable).toBe(true);
    expect(refused.status).toBeUndefined();

    const { client: cutClient } = await setup((_, res) => res.socket?.destroy());
    const cut = await refusal(cutClient.send(encodeWriteRequestV1(request)));
    expect(cut.retriable).toBe(true);
  });

  it('names the endpoint without credentials or query parameters', async () => {
    const receiver = await startReceiver((_, res) => res.writeHead(400).end());
    cleanups.push(receiver.close);
    const url = receiver.url.replace('http://', 'http://user:pw@') + '?token=abc';
    const client = new RemoteWriteClient({ url, protocol: 'v1', timeoutMs: 5_000 });
    cleanups.push(() => client.close());
    const err = await refusal(client.send(encodeWriteRequestV1(request)));
    expect(err.message).not.toContain('pw');
    expect(err.message).not.toContain('abc');
  });
});

describe('retryAfterMsOf', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMsOf('120', now)).toBe(120_000);
    expect(retryAfterMsOf(' 0 ', now)).toBe(0);
    expect(retryAfterMsOf('Wed, 01 May 2024 12:00:45 GMT', now)).toBe(45_000);
  });
  it('a date in the past means now; absent or unreadable means no advice', () => {
    expect(retryAfterMsOf('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMsOf(undefined, now)).toBeUndefined();
    expect(retryAfterMsOf('soon', now)).toBeUndefined();
    expect(retryAfterMsOf('-5', now)).toBeUndefined();
  });
});
