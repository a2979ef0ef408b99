/** Typed errors shared by every service. Each says whether a retry can help. */
export interface SluiceErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  context?: Record<string, unknown>;
}

export class SluiceError extends Error {
  readonly retryable: boolean;
  readonly context: Record<string, unknown>;
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SluiceError";
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }
}

/** An experiment spec that does not validate; `issues` name each field and problem. */
export class SpecError extends SluiceError {
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[], options: SluiceErrorOptions = {}) {
    super(`invalid experiment spec ${source}:\n  - ${issues.join("\n  - ")}`, options);
    this.name = "SpecError";
    this.issues = issues;
  }
}

/** A message or request that cannot be decoded or is inconsistent. Never retryable. */
export class ValidationError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, { ...options, retryable: false });
    this.name = "ValidationError";
  }
}

/** A wait that ran past its deadline. */
export class DeadlineError extends SluiceError {
  constructor(what: string, timeoutMs: number, options: SluiceErrorOptions = {}) {
    super(`${what} did not finish within ${timeoutMs} ms`, { retryable: true, ...options });
    this.name = "DeadlineError";
  }
}

/** NATS / JetStream failures (connection, publish acks, stream state). */
export class TransportError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, { retryable: true, ...options });
    this.name = "TransportError";
  }
}

/** A gRPC call that failed; `code` is the gRPC status code. */
export class RpcError extends SluiceError {
  readonly code: number;
  readonly method: string;
  constructor(method: string, code: number, details: string, options: SluiceErrorOptions = {}) {
    super(`${method} failed (grpc code ${code}): ${details}`, options);
    this.name = "RpcError";
    this.code = code;
    this.method = method;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
