import { Hono } from 'hono';
import { getRequestListener } from '@hono/node-server';
import type { RequestListener } from 'node:http';
import type { Logger } from '../logger.js';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import { describeError, errorResponse, toResponse } from './errors.js';
import { edgeListener } from './node-listener.js';
import { mountQueryApi, type IndexProvider } from './query-api.js';
import { readBodyWithLimit } from './read-body.js';
import type { BodyHandler, BodyRequest, HttpLimits, HttpRoutes } from './routes.js';

export interface Edge {
  /** The Hono app: tests call `app.request()`; it serves every route, the write routes too. */
  app: Hono;
  /** What the HTTP server runs: sources' POST routes straight from node:http, the rest through `app`. */
  listener(options: { hostname: string }): RequestListener;
  /** What sources mount their routes on. */
  routes: HttpRoutes;
  /** Wire the running topology in: readiness and the index the query API serves. */
  attach(parts: { ready: () => boolean; index?: IndexProvider }): void;
  /** Begin shutdown: /-/ready turns 503 and write routes refuse new requests. */
  drain(): void;
}

/** The HTTP edge, built without listening on a socket. */
export function createEdge(options: { limits: HttpLimits; metrics: RuntimeMetrics; logger: Logger }): Edge {
  const app = new Hono();
  const posts = new Map<string, BodyHandler>();
  let draining = false;
  let ready: () => boolean = () => false;
  let index: IndexProvider | undefined;
  const logFailure = (err: unknown, path: string) => options.logger.error({ err: describeError(err), path }, 'request failed');

  app.onError((err, c) => {
    logFailure(err, c.req.path);
    return errorResponse(err);
  });
  app.get('/-/healthy', (c) => c.text('weir is Healthy.\n'));
  app.get('/-/ready', (c) => (!draining && ready() ? c.text('weir is Ready.\n') : c.text('weir is not ready.\n', 503)));
  app.get('/metrics', async (c) => {
    const body = await options.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': options.metrics.registry.contentType });
  });
  mountQueryApi(app, () => index);

  return {
    app,
    listener: ({ hostname }) => edgeListener(posts, getRequestListener(app.fetch, { hostname }), logFailure),
    routes: {
      post(path, handler) {
        posts.set(path, handler);
        app.post(path, async (c) => toResponse(await handler(webBodyRequest(c.req.raw))));
      },
      limits: options.limits,
      draining: () => draining,
    },
    attach(parts) {
      ready = parts.ready;
      index = parts.index;
    },
    drain() {
      draining = true;
    },
  };
}

function webBodyRequest(request: Request): BodyRequest {
  return {
    header: (name) => request.headers.get(name) ?? undefined,
    headers: () => Object.fromEntries(request.headers),
    body: (limit) => readBodyWithLimit(request, limit),
  };
}
