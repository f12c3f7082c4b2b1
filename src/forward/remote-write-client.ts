import http from 'node:http';
import https from 'node:https';
import { ConfigError } from '../errors.js';
import { compressSnappy } from '../remote-write/snappy.js';
import { RemoteWriteError } from './remote-write-error.js';

export type RemoteWriteProtocol = 'v1' | 'v2';

export type RemoteWriteAuth =
  | { basic: { username: string; password: string } }
  | { bearerToken: string };

export interface RemoteWriteClientOptions {
  /** The receiver's write endpoint, e.g. `http://127.0.0.1:8428/api/v1/write`. */
  url: string;
  protocol: RemoteWriteProtocol;
  auth?: RemoteWriteAuth;
  /** Sent with every request; may not replace the protocol's own headers. */
  headers?: Record<string, string>;
  /** For the whole request, answer included. */
  timeoutMs: number;
  /** Bytes of a refusal's answer kept for the failure queue. */
  maxAnswerBytes?: number;
}

const PROTOCOL_HEADERS: Record<RemoteWriteProtocol, Record<string, string>> = {
  v1: { 'content-type': 'application/x-protobuf', 'x-prometheus-remote-write-version': '0.1.0' },
  v2: { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request', 'x-prometheus-remote-write-version': '2.0.0' },
};
const RESERVED_HEADERS = ['content-type', 'content-encoding', 'content-length', 'x-prometheus-remote-write-version', 'authorization', 'host'];

/**
 * Sends remote-write bodies to one receiver: each `send` is one POST of a snappy-compressed body,
 * over keep-alive connections (one per shard sending at a time). Resolves on 2xx; rejects with a
 * RemoteWriteError that says whether to retry (5xx, 429, network errors, timeouts, with the
 * receiver's `Retry-After`) or not (any other status: the body itself is refused).
 */
export class RemoteWriteClient {
  private readonly url: URL;
  private readonly where: string;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly maxAnswerBytes: number;

  constructor(options: RemoteWriteClientOptions) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new ConfigError(`remote write url must be http(s), got ${this.url.protocol}`);
    }
    // Messages name the endpoint without credentials or query parameters (they may carry tokens).
    this.where = `${this.url.origin}${this.url.pathname}`;
    this.transport = this.url.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true });
    this.headers = { 'user-agent': 'weir', ...headersOf(options.headers ?? {}), ...PROTOCOL_HEADERS[options.protocol], 'content-encoding': 'snappy' };
    if (options.auth !== undefined) this.headers.authorization = authorizationOf(options.auth);
    this.timeoutMs = options.timeoutMs;
    this.maxAnswerBytes = options.maxAnswerBytes ?? 4096;
  }

  /** POSTs `body` (an uncompressed remote-write request), compressed with snappy. */
  send(body: Uint8Array): Promise<void> {
    const compressed = compressSnappy(body);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: RemoteWriteError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      const request = this.transport.request(
        this.url,
        { method: 'POST', agent: this.agent, headers: { ...this.headers, 'content-length': compressed.length } },
        (response) => this.readAnswer(response, finish),
      );
      const timer = setTimeout(() => {
        finish(new RemoteWriteError(`${this.where}: no answer within ${this.timeoutMs} ms`, { retriable: true }));
        request.destroy();
      }, this.timeoutMs);
      request.on('error', (err) => finish(new RemoteWriteError(`${this.where}: ${err.message}`, { retriable: true, cause: err })));
      request.end(compressed);
    });
  }

  /** Closes idle connections; requests still running fail. */
  close(): void {
    this.agent.destroy();
  }

  /** Reads the answer to its end (so the connection can be reused), keeping the start of a refusal's text. */
  private readAnswer(response: http.IncomingMessage, finish: (err?: RemoteWriteError) => void): void {
    const status = response.statusCode ?? 0;
    const ok = status >= 200 && status < 300;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    response.on('data', (chunk: Buffer) => {
      if (ok || keptBytes >= this.maxAnswerBytes) return;
      const part = chunk.subarray(0, this.maxAnswerBytes - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    });
    response.on('error', (err) => finish(new RemoteWriteError(`${this.where}: ${err.message}`, { retriable: true, cause: err })));
    response.on('end', () => {
      if (ok) return finish();
      const answer = Buffer.concat(kept).toString('utf8').trim();
      const retriable = status >= 500 || status === 429;
      const retryAfterMs = retriable ? retryAfterMsOf(response.headers['retry-after'], Date.now()) : undefined;
      finish(new RemoteWriteError(`${this.where}: HTTP ${status}${answer === '' ? '' : `: ${answer}`}`, { retriable, status, retryAfterMs, answer }));
    });
  }
}

/**
 * The delay a `Retry-After` header asks for, in ms: either seconds or an HTTP date
 * (RFC 9110 §10.2.3); undefined when absent or unreadable.
 */
export function retryAfterMsOf(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month; this keeps Date.parse from reading '-5' as a year.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function headersOf(extra: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(extra)) {
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.includes(lower)) throw new ConfigError(`remote write header ${name} is set by weir and cannot be replaced`);
    headers[lower] = value;
  }
  return headers;
}

function authorizationOf(auth: RemoteWriteAuth): string {
  if ('bearerToken' in auth) return `Bearer ${auth.bearerToken}`;
  const { username, password } = auth.basic;
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
