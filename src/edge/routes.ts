import type { Context } from 'hono';

/**
 * The narrow view of the HTTP server that sources get: they mount handlers; the edge owns the
 * server, the body limits, draining and the query API.
 */
export type RouteHandler = (c: Context) => Response | Promise<Response>;

export interface HttpLimits {
  /** Largest request body as sent (compressed). */
  maxBodyBytes: number;
  /** Largest body after decompression. */
  maxDecodedBytes: number;
}

export interface HttpRoutes {
  post(path: string, handler: RouteHandler): void;
  readonly limits: HttpLimits;
  /** True once shutdown began: sources refuse new work with 503. */
  draining(): boolean;
}
