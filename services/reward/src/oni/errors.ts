import { SluiceError, ValidationError, type SluiceErrorOptions } from "@sluice/common";

/** A judge request that failed (HTTP status, network, deadline or malformed body). */
export class JudgeRequestError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, { retryable: true, ...options });
    this.name = "JudgeRequestError";
  }
}

/** An ONI configuration value that cannot be used (e.g. a regex that does not compile). */
export class OniConfigError extends ValidationError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, options);
    this.name = "OniConfigError";
  }
}
