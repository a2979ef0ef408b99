import { SluiceError, type SluiceErrorOptions } from "@sluice/common";

/** A Kubernetes API call that failed; `status` is the HTTP status (0 when no response came back). */
export class KubeApiError extends SluiceError {
  readonly status: number;
  readonly reason: string;
  constructor(
    readonly verb: string,
    readonly path: string,
    status: number,
    reason: string,
    message: string,
    options: SluiceErrorOptions = {},
  ) {
    // 409 (conflict), 429 (throttled), 5xx and transport failures are worth a retry; 4xx are not.
    const retryable = status === 0 || status === 409 || status === 429 || status >= 500;
    super(`${verb} ${path}: ${status} ${reason}: ${message}`, {
      retryable,
      ...options,
      context: { verb, path, status, reason, ...options.context },
    });
    this.name = "KubeApiError";
    this.status = status;
    this.reason = reason;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}

/** An RLExperiment whose spec cannot run; reported on the Admitted condition, never retried. */
export class InvalidExperimentError extends SluiceError {
  constructor(
    readonly experiment: string,
    readonly issues: readonly string[],
  ) {
    super(`RLExperiment ${experiment} is invalid: ${issues.join("; ")}`, { retryable: false, context: { experiment } });
    this.name = "InvalidExperimentError";
  }
}

/** The experiment's NATS resources could not be created or removed. */
export class StreamsError extends SluiceError {
  constructor(experiment: string, action: "ensure" | "remove", options: SluiceErrorOptions = {}) {
    super(`NATS streams of ${experiment}: ${action} failed`, {
      retryable: true,
      ...options,
      context: { experiment, action, ...options.context },
    });
    this.name = "StreamsError";
  }
}
