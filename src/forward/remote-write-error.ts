import { DownstreamError } from '../errors.js';

/**
 * A remote-write request that did not get a 2xx. `retriable` (5xx, 429, network errors, timeouts)
 * says whether sending the same body again may succeed; the rest goes to the failure queue, which
 * keeps the status and the receiver's answer so an operator can see why.
 */
export class RemoteWriteError extends DownstreamError {
  /** HTTP status, when the receiver answered at all. */
  readonly status: number | undefined;
  /** How long the receiver asked us to wait (`Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;
  /** The start of the receiver's answer (bounded), '' when there was none. */
  readonly answer: string;

  constructor(
    message: string,
    options: { retriable: boolean; status?: number; retryAfterMs?: number; answer?: string; cause?: unknown },
  ) {
    super(message, { cause: options.cause, retriable: options.retriable });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.answer = options.answer ?? '';
  }
}
