import { SluiceError, type SluiceErrorOptions } from "@sluice/common";

/** Bad command line: the CLI prints usage and exits 2. */
export class UsageError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A supervised child that exited while it was still needed. */
export class ChildExitedError extends SluiceError {
  constructor(
    readonly child: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly logFile: string | undefined,
  ) {
    const how = signal ? `signal ${signal}` : `code ${code}`;
    super(`${child} exited unexpectedly (${how})${logFile ? `; see ${logFile}` : ""}`);
    this.name = "ChildExitedError";
  }
}

/** The run was stopped on purpose (Ctrl-C, SIGTERM); not a failure. */
export class InterruptedError extends SluiceError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = "InterruptedError";
  }
}

/** The run failed for a reason the CLI detected (crash event, stall, child failure). */
export class RunFailedError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, options);
    this.name = "RunFailedError";
  }
}
