import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { PayloadTooLargeError } from '../errors.js';
import { errorAnswer } from './errors.js';
import type { Answer, BodyHandler, BodyRequest } from './routes.js';

/**
 * The HTTP server's request listener: POST routes that sources mounted are served here, straight
 * from node:http (the body read into one buffer, the answer written with writeHead/end);
 * everything else (the query API, /metrics, /-/ready, other methods) goes to `fallback`, Hono.
 */
export function edgeListener(posts: ReadonlyMap<string, BodyHandler>, fallback: RequestListener, onError: (err: unknown, path: string) => void): RequestListener {
  return function edgeRequest(req, res) {
    const url = req.url;
    if (req.method === 'POST' && url !== undefined) {
      const query = url.indexOf('?');
      const path = query < 0 ? url : url.slice(0, query);
      const handler = posts.get(path);
      if (handler !== undefined) {
        handler(new NodeBodyRequest(req)).then(
          (answer) => send(req, res, answer),
          (err: unknown) => {
            onError(err, path);
            send(req, res, errorAnswer(err));
          },
        );
        return;
      }
    }
    fallback(req, res);
  };
}

/**
 * Writes the answer. When the request's body was not read to its end (a 413 on the declared
 * length, or a refusal before reading), the connection is closed after the answer: keeping it
 * alive would mean reading and dropping the rest of a body of any declared size.
 */
function send(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return;
  const headers = req.complete ? answer.headers : { ...answer.headers, connection: 'close' };
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers);
    res.end();
    return;
  }
  res.writeHead(answer.status, { ...headers, 'content-length': String(Buffer.byteLength(answer.body)) });
  res.end(answer.body);
}

class NodeBodyRequest implements BodyRequest {
  constructor(private readonly req: IncomingMessage) {}

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  headers(): Record<string, string | string[] | undefined> {
    return this.req.headers;
  }

  body(limit: number): Promise<Uint8Array> {
    const req = this.req;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      return Promise.reject(new PayloadTooLargeError(`body of ${declared} bytes is larger than the limit of ${limit} bytes`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      const onData = (chunk: Buffer) => {
        total += chunk.length;
        if (total > limit) {
          // Stop keeping it; the stream keeps flowing, so the rest is read and dropped.
          finish();
          reject(new PayloadTooLargeError(`body is larger than the limit of ${limit} bytes`));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        finish();
        resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
      };
      const onClose = () => {
        finish();
        reject(new Error('the client closed the connection before sending the whole body'));
      };
      const finish = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onClose);
        req.off('close', onClose);
        req.on('data', ignore);
        req.on('error', ignore);
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onClose);
      req.on('close', onClose);
    });
  }
}

function ignore(): void {}
