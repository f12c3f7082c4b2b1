import { context as otelContext, type Context } from '@opentelemetry/api';
import { Delivery } from './delivery.js';

/**
 * What flows between stages: a batch (`payload`) plus the delivery it belongs to and the trace
 * context it travels in. Stages derive new messages with `with()`, which keeps both.
 */
export class Message<T> {
  constructor(
    readonly payload: T,
    readonly delivery: Delivery,
    readonly traceContext: Context = otelContext.active(),
  ) {}

  with<U>(payload: U): Message<U> {
    return new Message(payload, this.delivery, this.traceContext);
  }

  withTraceContext(traceContext: Context): Message<T> {
    return new Message(this.payload, this.delivery, traceContext);
  }
}
