/**
 * The narrow view of the HTTP server that sources get: they mount handlers; the edge owns the
 * server, the body limits, draining and the query API.
 *
 * A handler sees a request and gives an answer as plain data, not as a web Request/Response: the
 * edge serves it from node:http directly on the socket (the write route is the hot path: a web
 * Request, its stream and a Response per call cost more than the rest of the HTTP work) and
 * through Hono as well, so `app.request()` in tests reaches the same handler.
 */
export interface BodyRequest {
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** Every header (lower-case names), e.g. to extract a trace context. */
  headers(): Record<string, string | string[] | undefined>;
  /**
   * The whole body; PayloadTooLargeError (413) as soon as it is known to be over `limit`: from
   * Content-Length before reading anything, or while reading when there is none.
   */
  body(limit: number): Promise<Uint8Array>;
}

export interface Answer {
  status: number;
  headers?: Readonly<Record<string, string>>;
  body?: string;
}

export type BodyHandler = (request: BodyRequest) => Promise<Answer>;

export interface HttpLimits {
  /** Largest request body as sent (compressed). */
  maxBodyBytes: number;
  /** Largest body after decompression. */
  maxDecodedBytes: number;
}

export interface HttpRoutes {
  post(path: string, handler: BodyHandler): void;
  readonly limits: HttpLimits;
  /** True once shutdown began: sources refuse new work with 503. */
  draining(): boolean;
}
