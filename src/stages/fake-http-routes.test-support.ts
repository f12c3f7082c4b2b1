import { PayloadTooLargeError } from '../errors.js';
import type { Answer, BodyHandler, BodyRequest, HttpLimits, HttpRoutes } from '../edge/routes.js';

/** What a test sends to a mounted route: header names in lower case, as node:http gives them. */
export interface FakeRequest {
  headers?: Record<string, string>;
  body: Uint8Array;
}

/** The service's defaults (`http.max_body_bytes`, `http.max_decoded_bytes`). */
const DEFAULT_LIMITS: HttpLimits = { maxBodyBytes: 32 * 1024 * 1024, maxDecodedBytes: 256 * 1024 * 1024 };

/**
 * The edge as a source sees it, without a server: a test calls the handlers a source mounted
 * with `request()` and gets the answer as plain data, and turns draining on by hand.
 */
export class FakeHttpRoutes implements HttpRoutes {
  readonly limits: HttpLimits;
  private readonly handlers = new Map<string, BodyHandler>();
  private isDraining = false;

  constructor(limits: Partial<HttpLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  post(path: string, handler: BodyHandler): void {
    this.handlers.set(path, handler);
  }

  draining(): boolean {
    return this.isDraining;
  }

  /** Shutdown began (what `Edge.drain()` does). */
  drain(): void {
    this.isDraining = true;
  }

  /** Call the handler mounted on `path`, as the edge would for a POST there. */
  request(path: string, request: FakeRequest): Promise<Answer> {
    const handler = this.handlers.get(path);
    if (handler === undefined) throw new Error(`no handler mounted on ${path} (mounted: ${[...this.handlers.keys()].join(', ') || 'none'})`);
    return handler(fakeBodyRequest(request));
  }
}

function fakeBodyRequest({ headers = {}, body }: FakeRequest): BodyRequest {
  return {
    header: (name) => headers[name],
    headers: () => headers,
    // As the edge does with a Content-Length: 413 before reading anything.
    body: (limit) => (body.length > limit ? Promise.reject(new PayloadTooLargeError(`body of ${body.length} bytes is larger than the limit of ${limit} bytes`)) : Promise.resolve(body)),
  };
}
