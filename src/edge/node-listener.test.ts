import { createServer, request, type RequestListener, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { edgeListener } from './node-listener.js';
import type { BodyHandler } from './routes.js';

let server: Server | undefined;
afterEach(async () => {
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

async function listen(listener: RequestListener): Promise<string> {
  server = createServer(listener);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A POST with a body in `chunks` (no Content-Length: chunked transfer) or in one piece. */
function post(url: string, body: Buffer | Buffer[], headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: Array.isArray(body) ? headers : { ...headers, 'content-length': String(body.length) } });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk);
      req.end();
    } else req.end(body);
  });
}

const echoLength: BodyHandler = async (req) => {
  const body = await req.body(1000);
  return { status: 200, headers: { 'x-length': String(body.length), 'x-type': req.header('content-type') ?? '' }, body: 'ok' };
};

const fallback: RequestListener = (_req, res) => {
  res.writeHead(404);
  res.end('fallback');
};

describe('edgeListener', () => {
  it('serves mounted POST routes from node:http, with the query string ignored, and the rest from the fallback', async () => {
    const url = await listen(edgeListener(new Map([['/write', echoLength]]), fallback, () => undefined));
    const res = await post(`${url}/write?x=1`, Buffer.alloc(10), { 'content-type': 'application/x-protobuf' });
    expect(res).toMatchObject({ status: 200, body: 'ok', headers: { 'x-length': '10', 'x-type': 'application/x-protobuf', 'content-length': '2' } });
    expect((await post(`${url}/other`, Buffer.alloc(1))).body).toBe('fallback');
    expect((await fetch(`${url}/write`)).status).toBe(404); // GET: the fallback's
  });

  it('reads a body sent in many chunks into one buffer', async () => {
    const url = await listen(edgeListener(new Map([['/write', echoLength]]), fallback, () => undefined));
    const res = await post(`${url}/write`, [Buffer.alloc(300), Buffer.alloc(300), Buffer.alloc(300)]);
    expect(res.headers['x-length']).toBe('900');
  });

  it('refuses with 413 a declared length over the limit, and an undeclared one once it is read past it', async () => {
    const url = await listen(edgeListener(new Map([['/write', echoLength]]), fallback, () => undefined));
    const declared = await post(`${url}/write`, Buffer.alloc(1001));
    expect(declared.status).toBe(413);
    expect(declared.body).toMatch(/1001 bytes is larger than the limit of 1000/);
    const streamed = await post(`${url}/write`, [Buffer.alloc(600), Buffer.alloc(600)]);
    expect(streamed.status).toBe(413);
    // The connection still serves the next request.
    expect((await post(`${url}/write`, Buffer.alloc(5))).status).toBe(200);
  });

  it('closes the connection after a 413 on the declared length instead of reading the rest of the body', async () => {
    const url = new URL(await listen(edgeListener(new Map([['/write', echoLength]]), fallback, () => undefined)));
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    // Declares 10 GB, sends 100 bytes and keeps the socket open: the server must not wait for the rest.
    socket.write(`POST /write HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n${'x'.repeat(100)}`);
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
  });

  it('maps a failing handler through the one error mapping and reports it', async () => {
    const failures: unknown[] = [];
    const handlers = new Map<string, BodyHandler>([
      ['/invalid', () => Promise.reject(new InvalidInputError('bad body'))],
      ['/bug', () => Promise.reject(new Error('boom'))],
    ]);
    const url = await listen(edgeListener(handlers, fallback, (err) => failures.push(err)));
    expect(await post(`${url}/invalid`, Buffer.alloc(1))).toMatchObject({ status: 400, body: 'bad body\n' });
    expect(await post(`${url}/bug`, Buffer.alloc(1))).toMatchObject({ status: 500, body: 'internal error: boom\n' });
    expect(failures).toHaveLength(2);
  });

  it('survives a client that goes away in the middle of the body', async () => {
    let settled: Promise<unknown> | undefined;
    const url = await listen(
      edgeListener(new Map<string, BodyHandler>([['/write', (req) => ((settled = req.body(1 << 20).catch((err: Error) => err.message)), settled.then(() => ({ status: 204 })))]]), fallback, () => undefined),
    );
    await new Promise<void>((resolve) => {
      const req = request(`${url}/write`, { method: 'POST', headers: { 'content-length': '1000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(10), () => setTimeout(() => (req.destroy(), resolve()), 50));
    });
    await expect.poll(() => settled).toBeDefined();
    expect(await settled).toMatch(/closed the connection/);
  });
});
