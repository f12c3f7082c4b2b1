import { context as otelContext, propagation } from '@opentelemetry/api';
import { Observable, type Subscriber } from 'rxjs';
import { z } from 'zod';
import { duration } from '../../config/units.js';
import { InvalidInputError, OverloadedError } from '../../errors.js';
import { errorAnswer } from '../../edge/errors.js';
import type { Answer, BodyRequest } from '../../edge/routes.js';
import { checkContentEncoding, decodeRemoteWrite, parseRemoteWriteContentType } from '../../remote-write/index.js';
import { countWriteRequest, type WriteRequest } from '../../remote-write/types.js';
import { Delivery } from '../../runtime/delivery.js';
import { Message } from '../../runtime/message.js';
import { defineSource, type SourceContext } from '../../topology/declaration.js';

export const httpRemoteWriteConfig = z.strictObject({
  path: z.string().startsWith('/').default('/api/v1/write').describe('Route that takes remote-write requests (1.0 and 2.0, snappy + protobuf).'),
  ack_timeout: duration().prefault('30s').describe('Longest a request waits for its data to be acknowledged downstream; after that it is answered 503 (the sender retries; duplicates are possible, loss is not).'),
  overload_status: z.union([z.literal(503), z.literal(429)]).default(503).describe('Status when the pipeline is full. 503 is retried by every remote-write sender; 429 only by senders configured to retry it (Prometheus: retry_on_http_429).'),
  retry_after: duration().prefault('5s').describe('Retry-After sent with 429/503 answers.'),
});
export type HttpRemoteWriteConfig = z.output<typeof httpRemoteWriteConfig>;

/**
 * The remote-write edge. A request is answered only when everything it carried is acknowledged
 * by the pipeline's sink: 204 (2.0: with the *-Written headers), 400 naming invalid series,
 * 413/415 for oversized or unsupported bodies, 503/429 with Retry-After when the pipeline is full
 * or downstream is failing.
 */
export const httpRemoteWrite = defineSource({
  kind: 'source',
  type: 'http_remote_write',
  summary: 'Takes Prometheus remote-write 1.0 and 2.0 requests over HTTP and answers once the data is acknowledged downstream.',
  stability: 'stable',
  examples: [
    {
      title: 'The remote-write edge on its default path',
      yaml: `
        source:
          type: http_remote_write
          path: /api/v1/write`,
    },
    {
      title: 'Answer 429 when full, for senders set to retry it (Prometheus: retry_on_http_429)',
      yaml: `
        source:
          type: http_remote_write
          overload_status: 429
          retry_after: 2s`,
    },
  ],
  emits: 'WriteRequest',
  config: httpRemoteWriteConfig,
  create(config, ctx) {
    return new Observable<Message<WriteRequest>>((subscriber) => {
      let open = true;
      ctx.http.post(config.path, (req) => (open ? handleWrite(req, subscriber, config, ctx) : Promise.resolve(shuttingDown(config))));
      return () => {
        open = false;
      };
    });
  },
});

async function handleWrite(req: BodyRequest, subscriber: Subscriber<Message<WriteRequest>>, config: HttpRemoteWriteConfig, ctx: SourceContext): Promise<Answer> {
  if (ctx.http.draining()) {
    ctx.shed('draining');
    return shuttingDown(config);
  }
  let request: WriteRequest;
  let version: '1.0' | '2.0';
  try {
    version = parseRemoteWriteContentType(req.header('content-type'));
    checkContentEncoding(req.header('content-encoding'));
  } catch (err) {
    return errorAnswer(err);
  }
  if (!ctx.flow.tryAcquire()) {
    ctx.shed('pipeline_full');
    return errorAnswer(new OverloadedError('pipeline is full, retry later', { retryAfterSeconds: Math.ceil(config.retry_after / 1000), status: config.overload_status }));
  }
  let creditHeld = true;
  try {
    const body = await req.body(ctx.http.limits.maxBodyBytes);
    request = decodeRemoteWrite(body, { version, maxDecodedBytes: ctx.http.limits.maxDecodedBytes });
    const delivery = new Delivery();
    // The credit goes back when the data is acknowledged or failed, not when we answer: a request
    // answered 503 on timeout still occupies the pipeline until it settles.
    creditHeld = false;
    delivery.done.finally(() => ctx.flow.release()).catch(() => undefined);
    delivery.hold();
    const traceContext = propagation.extract(otelContext.active(), req.headers());
    subscriber.next(new Message(request, delivery, traceContext));
    const outcome = await settleWithin(delivery, config.ack_timeout);
    if (outcome === 'timeout') {
      return errorAnswer(new OverloadedError(`not acknowledged downstream within ${config.ack_timeout} ms`, { retryAfterSeconds: Math.ceil(config.retry_after / 1000), status: 503 }));
    }
    if (delivery.rejected.length > 0) {
      return errorAnswer(new InvalidInputError(`${delivery.rejected.length} invalid series were not written (the valid ones were)`, delivery.rejected));
    }
    return written(version, request);
  } catch (err) {
    return errorAnswer(err);
  } finally {
    if (creditHeld) ctx.flow.release();
  }
}

async function settleWithin(delivery: Delivery, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([delivery.done.then(() => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const WRITTEN_V1: Answer = Object.freeze({ status: 204 });

function written(version: '1.0' | '2.0', request: WriteRequest): Answer {
  if (version === '1.0') return WRITTEN_V1;
  const counts = countWriteRequest(request);
  return {
    status: 204,
    headers: {
      'X-Prometheus-Remote-Write-Samples-Written': String(counts.samples),
      'X-Prometheus-Remote-Write-Histograms-Written': String(counts.histograms),
      'X-Prometheus-Remote-Write-Exemplars-Written': String(counts.exemplars),
    },
  };
}

function shuttingDown(config: HttpRemoteWriteConfig): Answer {
  return errorAnswer(new OverloadedError('weir is shutting down', { retryAfterSeconds: Math.ceil(config.retry_after / 1000), status: 503 }));
}
