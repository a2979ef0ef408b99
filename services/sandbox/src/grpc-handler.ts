import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import { SluiceError, ValidationError, errorMessage } from "@sluice/common";

// gRPC status codes (fixed by the gRPC spec).
const INVALID_ARGUMENT = 3;
const INTERNAL = 13;
const UNAVAILABLE = 14;

/** The gRPC status for an error: its own numeric `code` if it has one, else by type. */
export function grpcStatusOf(err: unknown): number {
  const own = (err as { code?: unknown } | null)?.code;
  if (err instanceof SluiceError && typeof own === "number") return own;
  if (err instanceof ValidationError) return INVALID_ARGUMENT;
  if (err instanceof SluiceError && err.retryable) return UNAVAILABLE;
  return INTERNAL;
}

/**
 * Like common's unaryHandler, but keeps a typed error's own status code (NOT_FOUND,
 * RESOURCE_EXHAUSTED): common's adapter maps every error by type alone, which would turn
 * an unknown sandbox id into INTERNAL.
 */
export function unaryHandler<Req, Res>(
  fn: (req: Req) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) =>
        callback({ code: grpcStatusOf(err), details: errorMessage(err), name: "Error", message: errorMessage(err) }),
    );
  };
}
