import { SluiceError } from "@sluice/common";

/** SWE-ReX exception classes by the `class_path` its RemoteRuntime re-raises on the client. */
export const SWEREX = {
  nonZeroExit: "swerex.exceptions.NonZeroExitCodeError",
  commandTimeout: "swerex.exceptions.CommandTimeoutError",
  syntax: "swerex.exceptions.BashIncorrectSyntaxError",
  sessionExists: "swerex.exceptions.SessionExistsError",
  sessionMissing: "swerex.exceptions.SessionDoesNotExistError",
  generic: "swerex.exceptions.SwerexException",
} as const;

/**
 * An error the client should see as a Python exception: sent as HTTP 511 with
 * `{"swerexception": {message, class_path, traceback, extra_info}}`, SWE-ReX's transport
 * for runtime errors, which RemoteRuntime turns back into `class_path(message)`.
 */
export class SwerexException extends SluiceError {
  readonly classPath: string;
  readonly extraInfo: Record<string, unknown>;
  constructor(classPath: string, message: string, extraInfo: Record<string, unknown> = {}) {
    super(message, { context: { classPath } });
    this.name = "SwerexException";
    this.classPath = classPath;
    this.extraInfo = extraInfo;
  }
}

/** FastAPI's validation issue shape (`detail` items of a 422). */
export interface ValidationIssue {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/**
 * A protocol-level failure (auth, size, routing, validation) answered like FastAPI does:
 * `{"detail": <string or issue list>}` with the given status.
 */
export class SwerexHttpError extends SluiceError {
  readonly status: number;
  readonly detail: string | ValidationIssue[];
  constructor(status: number, detail: string | ValidationIssue[]) {
    super(typeof detail === "string" ? detail : detail.map((d) => `${d.loc.join(".")}: ${d.msg}`).join("; "), {
      context: { status },
    });
    this.name = "SwerexHttpError";
    this.status = status;
    this.detail = detail;
  }
}

/** Body of a 511 response for `err`. */
export function exceptionBody(err: SwerexException): { swerexception: Record<string, unknown> } {
  return {
    swerexception: { message: err.message, class_path: err.classPath, traceback: "", extra_info: err.extraInfo },
  };
}
