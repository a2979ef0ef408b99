import {
  Server,
  ServerCredentials,
  status,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type sendUnaryData,
  type ServerUnaryCall,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Registry } from "prom-client";
import { SluiceError, ValidationError, errorMessage } from "../errors.js";
import type { Logger } from "../logging.js";
import { counter, histogram } from "../metrics.js";
import { PROTO_ROOT } from "../paths.js";

export interface GrpcServiceRegistration {
  /** Fully qualified name, e.g. "sluice.v1.SandboxService" (used for health status). */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  host?: string;
  port: number;
  services: GrpcServiceRegistration[];
  logger: Logger;
  registry: Registry;
}

export interface RunningGrpcServer {
  port: number;
  health: HealthImplementation;
  /** Stops accepting calls, lets in-flight calls finish for `graceMs`, then forces. */
  shutdown(graceMs: number): Promise<void>;
}

/** Starts a gRPC server with standard health checking, reflection and per-RPC metrics. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new Server({ "grpc.max_receive_message_length": 64 * 1024 * 1024 });
  const statusMap: Record<string, "SERVING"> = { "": "SERVING" };
  for (const s of options.services) statusMap[s.name] = "SERVING";
  const health = new HealthImplementation(statusMap);
  health.addToServer(server);
  new ReflectionService(loadContracts()).addToServer(server);

  const calls = counter(options.registry, "sluice_grpc_server_calls_total", "gRPC calls handled", ["method", "code"]);
  const latency = histogram(
    options.registry,
    "sluice_grpc_server_latency_seconds",
    "gRPC call latency",
    [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60],
    ["method"],
  );
  for (const s of options.services) {
    server.addService(s.definition, instrument(s, options.logger, calls, latency));
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host ?? "127.0.0.1"}:${options.port}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  return {
    port,
    health,
    shutdown: async (graceMs) => {
      for (const name of Object.keys(statusMap)) health.setStatus(name, "NOT_SERVING");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

function loadContracts(): ReturnType<typeof loadSync> {
  const dir = join(PROTO_ROOT, "sluice", "v1");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".proto"))
    .map((f) => `sluice/v1/${f}`);
  return loadSync(files, { includeDirs: [PROTO_ROOT], keepCase: true });
}

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

/** Wraps unary handlers: metrics per method, and typed errors mapped to gRPC status codes. */
function instrument(
  service: GrpcServiceRegistration,
  logger: Logger,
  calls: ReturnType<typeof counter>,
  latency: ReturnType<typeof histogram>,
): UntypedServiceImplementation {
  const wrapped: UntypedServiceImplementation = {};
  for (const [key, handler] of Object.entries(service.implementation)) {
    const method = `${service.name}/${key}`;
    const unary = handler as UnaryHandler;
    wrapped[key] = ((call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const stop = latency.startTimer({ method });
      unary(call, (err, value) => {
        stop();
        if (err) {
          const code = (err as { code?: number }).code ?? toStatus(err);
          // Handlers may answer with a plain status object ({code, details}) rather than an Error.
          const details = (err as { details?: unknown }).details;
          const text = typeof details === "string" && details !== "" ? details : errorMessage(err);
          calls.inc({ method, code: String(code) });
          if (code !== status.INVALID_ARGUMENT) logger.warn("rpc failed", { method, code, err: text });
          callback({
            code,
            details: text,
            name: "Error",
            message: text,
            metadata: undefined as never,
          });
          return;
        }
        calls.inc({ method, code: "0" });
        callback(null, value);
      });
    }) as UnaryHandler;
  }
  return wrapped;
}

/** A numeric `code` on the error (a gRPC status chosen by the thrower) wins over mapping. */
function statusOf(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" && Number.isInteger(code) && code > 0 && code <= 16 ? code : toStatus(err);
}

function toStatus(err: unknown): number {
  if (err instanceof ValidationError) return status.INVALID_ARGUMENT;
  if (err instanceof SluiceError && err.retryable) return status.UNAVAILABLE;
  return status.INTERNAL;
}

/** Adapts an async handler to grpc-js's callback style; thrown errors become statuses. */
export function unaryHandler<Req, Res>(fn: (req: Req) => Promise<Res>): UnaryHandler {
  return (call, callback) => {
    fn(call.request as Req).then(
      (res) => callback(null, res),
      (err: unknown) => callback({ code: statusOf(err), details: errorMessage(err) } as never),
    );
  };
}
