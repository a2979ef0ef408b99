import { SluiceError, type SluiceErrorOptions } from "@sluice/common";

/**
 * gRPC status codes used here. Spelled out rather than imported from grpc-js so the backend
 * layer stays transport-free; the values are fixed by the gRPC spec.
 */
export const GRPC_NOT_FOUND = 5;
export const GRPC_RESOURCE_EXHAUSTED = 8;
export const GRPC_FAILED_PRECONDITION = 9;
export const GRPC_UNIMPLEMENTED = 12;

/**
 * Sandbox errors that carry their own gRPC status in `code`; common's gRPC server passes an
 * error's numeric `code` through unchanged.
 */
export class SandboxStatusError extends SluiceError {
  readonly code: number;
  constructor(message: string, code: number, options: SluiceErrorOptions = {}) {
    super(message, options);
    this.name = "SandboxStatusError";
    this.code = code;
  }
}

/** No live sandbox has this id (never created, or already destroyed). */
export class SandboxNotFoundError extends SandboxStatusError {
  constructor(sandboxId: string) {
    super(`sandbox ${sandboxId} not found`, GRPC_NOT_FOUND, { context: { sandboxId } });
    this.name = "SandboxNotFoundError";
  }
}

/** A file asked for by ReadFile does not exist in the workspace. */
export class SandboxFileNotFoundError extends SandboxStatusError {
  constructor(sandboxId: string, path: string) {
    super(`${path}: no such file in sandbox ${sandboxId}`, GRPC_NOT_FOUND, { context: { sandboxId, path } });
    this.name = "SandboxFileNotFoundError";
  }
}

/** The live-sandbox bound is reached; a retry after other episodes finish can succeed. */
export class SandboxCapacityError extends SandboxStatusError {
  constructor(limit: number) {
    super(`sandbox capacity reached (${limit} live sandboxes)`, GRPC_RESOURCE_EXHAUSTED, {
      retryable: true,
      context: { limit },
    });
    this.name = "SandboxCapacityError";
  }
}

/** The host cannot run sandboxes (bwrap missing or not working). */
export class SandboxHostError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, options);
    this.name = "SandboxHostError";
  }
}
