import { Hono } from 'hono';
import type { Logger } from '../logger.js';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import { describeError, errorResponse } from './errors.js';
import { mountQueryApi, type IndexProvider } from './query-api.js';
import type { HttpLimits, HttpRoutes } from './routes.js';

export interface Edge {
  /** The Hono app: tests call `app.request()`; the service hands `app.fetch` to the HTTP server. */
  app: Hono;
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
  let draining = false;
  let ready: () => boolean = () => false;
  let index: IndexProvider | undefined;

  app.onError((err, c) => {
    options.logger.error({ err: describeError(err), path: c.req.path }, 'request failed');
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
    routes: {
      post: (path, handler) => void app.post(path, handler),
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
