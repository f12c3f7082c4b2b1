/**
 * One error hierarchy for weir. Whether an error is worth retrying is a property of the error
 * (as in KafkaJS), and the HTTP status a client sees is derived from it in one place (`httpStatusOf`).
 */
export class WeirError extends Error {
  /** Retrying the same work may succeed (a timeout, a broker that is restarting). */
  readonly retriable: boolean;
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** A single problem with client input: what is wrong and where. */
export interface InvalidInputDetail {
  /** Where the problem is, e.g. `timeseries[12]` or the canonical series key. */
  where: string;
  /** What is wrong, e.g. `duplicate label name "job"`. */
  reason: string;
}

/** The client sent something we will not accept (HTTP 400). Never retriable. */
export class InvalidInputError extends WeirError {
  readonly details: InvalidInputDetail[];
  constructor(message: string, details: InvalidInputDetail[] = [], options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: false });
    this.details = details;
  }
}

/** The request body is larger than the configured limit (HTTP 413). */
export class PayloadTooLargeError extends WeirError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

/** Content-Type or Content-Encoding we do not speak (HTTP 415). */
export class UnsupportedMediaTypeError extends WeirError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

/** The pipeline is full; the client should come back later (HTTP 429 or 503 with Retry-After). */
export class OverloadedError extends WeirError {
  readonly retryAfterSeconds: number;
  readonly status: 429 | 503;
  constructor(message: string, options: { retryAfterSeconds: number; status?: 429 | 503 }) {
    super(message, { retriable: true });
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.status = options.status ?? 429;
  }
}

/** A downstream system (Kafka, Redis, a database) failed or timed out. */
export class DownstreamError extends WeirError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, { cause: options.cause, retriable: options.retriable ?? true });
  }
}

/** The topology or service configuration is wrong; reported by `weir lint` and at start. */
export class ConfigError extends WeirError {
  readonly problems: ConfigProblem[];
  constructor(message: string, problems: ConfigProblem[] = []) {
    super(message, { retriable: false });
    this.problems = problems;
  }
}

export interface ConfigProblem {
  /** YAML path, e.g. `pipelines.ingest.steps[1].max_labels`. */
  path: string;
  /** 1-based line in the file, when known. */
  line?: number;
  column?: number;
  message: string;
}

export function isRetriable(err: unknown): boolean {
  return err instanceof WeirError ? err.retriable : false;
}

/** The one place that maps an error to an HTTP status. */
export function httpStatusOf(err: unknown): number {
  if (err instanceof InvalidInputError) return 400;
  if (err instanceof PayloadTooLargeError) return 413;
  if (err instanceof UnsupportedMediaTypeError) return 415;
  if (err instanceof OverloadedError) return err.status;
  if (err instanceof DownstreamError) return err.retriable ? 503 : 500;
  return 500;
}
