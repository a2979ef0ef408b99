import { contracts, SluiceError, ValidationError, type SluiceErrorOptions } from "@sluice/common";

/** The gateway answered with a non-2xx status. 429 and 5xx are worth retrying. */
export class GatewayHttpError extends SluiceError {
  readonly status: number;
  readonly body: string;
  constructor(method: string, url: string, status: number, body: string, options: SluiceErrorOptions = {}) {
    super(`${method} ${url} failed with HTTP ${status}: ${body.slice(0, 500)}`, {
      retryable: status === 429 || status >= 500,
      ...options,
    });
    this.name = "GatewayHttpError";
    this.status = status;
    this.body = body;
  }
}

/** The gateway could not be reached, or the request ran past its timeout. */
export class GatewayTransportError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, { retryable: true, ...options });
    this.name = "GatewayTransportError";
  }
}

/** A 2xx response that is not a well-formed completion with the sluice extension. */
export class GatewayProtocolError extends ValidationError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, options);
    this.name = "GatewayProtocolError";
  }
}

/** `spec.environment.config` does not validate; each issue names `environment.config.<field>`. */
export class EnvironmentConfigError extends ValidationError {
  readonly issues: readonly string[];
  constructor(environment: string, issues: readonly string[]) {
    super(`invalid config for environment ${environment}:\n  - ${issues.join("\n  - ")}`);
    this.name = "EnvironmentConfigError";
    this.issues = issues;
  }
}

export class UnknownEnvironmentError extends ValidationError {
  constructor(name: string, known: readonly string[]) {
    super(`environment.name: unknown environment "${name}" (registered: ${known.join(", ") || "none"})`);
    this.name = "UnknownEnvironmentError";
  }
}

/** The episode was cut short by shutdown; its partial trajectory must not be published. */
export class EpisodeAbortedError extends SluiceError {
  constructor(trajectoryId: string) {
    super(`episode ${trajectoryId} aborted by shutdown`);
    this.name = "EpisodeAbortedError";
  }
}

/**
 * An environment's infrastructure failed (sandbox RPC, verifier): not the policy's fault.
 * The episode runner records `failureKind` so the learner masks the episode instead of
 * scoring it as a failure.
 */
export class EnvironmentInfraError extends SluiceError {
  readonly failureKind: contracts.FailureKind;
  constructor(failureKind: contracts.FailureKind, message: string, options: SluiceErrorOptions = {}) {
    super(message, options);
    this.name = "EnvironmentInfraError";
    this.failureKind = failureKind;
  }
}
