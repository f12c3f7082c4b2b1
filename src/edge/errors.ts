import { httpStatusOf, InvalidInputError, OverloadedError, WeirError } from '../errors.js';
import type { Answer } from './routes.js';

/**
 * The one mapping from weir's errors to remote-write HTTP answers: a plain-text body that says
 * what is wrong and where (senders log it), Retry-After on 429/503.
 */
export function errorAnswer(err: unknown): Answer {
  const status = httpStatusOf(err);
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (err instanceof OverloadedError) headers['retry-after'] = String(err.retryAfterSeconds);
  else if (status === 503) headers['retry-after'] = '5';
  return { status, headers, body: `${describeError(err)}\n` };
}

export function errorResponse(err: unknown): Response {
  return toResponse(errorAnswer(err));
}

export function toResponse(answer: Answer): Response {
  return new Response(answer.body ?? null, { status: answer.status, headers: answer.headers });
}

export function describeError(err: unknown): string {
  if (err instanceof InvalidInputError && err.details.length > 0) {
    return `${err.message}:\n${err.details.map((d) => `  ${d.where}: ${d.reason}`).join('\n')}`;
  }
  if (err instanceof WeirError) return err.message;
  // Not ours to explain in detail (a bug or an unexpected failure): say so without internals.
  return `internal error: ${err instanceof Error ? err.message : String(err)}`;
}
