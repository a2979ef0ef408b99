import { credentials, Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { RpcError } from "../errors.js";

type UnaryFn<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** Calls a unary RPC with a deadline; failures become RpcError with the gRPC code. */
export function unaryCall<Req, Res>(
  method: string,
  fn: UnaryFn<Req, Res>,
  request: Req,
  timeoutMs: number,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) {
        // 4 = DEADLINE_EXCEEDED, 14 = UNAVAILABLE: a retry may help.
        reject(
          new RpcError(method, err.code, err.details, { cause: err, retryable: err.code === 4 || err.code === 14 }),
        );
      } else resolve(res);
    });
  });
}

export const insecure = credentials.createInsecure;

export const CLIENT_OPTIONS = {
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  "grpc.max_send_message_length": 64 * 1024 * 1024,
} as const;
