import type { Registry } from "prom-client";
import { errorMessage } from "./errors.js";
import { EventPublisher } from "./events.js";
import { startGrpcServer, type GrpcServiceRegistration } from "./grpc/server.js";
import { createLogger, type Logger } from "./logging.js";
import { createMetricsRegistry, startMetricsServer } from "./metrics.js";
import { connectNats, type NatsHandles } from "./nats/connection.js";
import { argValue, loadRuntimeConfig, type RuntimeConfig, type ServiceName } from "./runtime-config.js";

/** What a service gets from the runner. */
export interface ServiceContext {
  name: ServiceName;
  runtime: RuntimeConfig;
  logger: Logger;
  registry: Registry;
  nats: NatsHandles;
  events: EventPublisher;
  /** Aborted when the service is asked to stop (signal, parent gone, fatal error). */
  signal: AbortSignal;
}

export interface StartedService {
  grpcServices: GrpcServiceRegistration[];
  /** Stop background work; in-flight work should finish or be handed back. */
  stop(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Runs one service process: runtime config from `--runtime`, JSON logs, `/metrics`,
 * NATS, a gRPC server with health and reflection, and orderly shutdown on SIGTERM,
 * SIGINT, or when the parent process goes away (no orphans).
 */
export async function runService(
  name: ServiceName,
  start: (ctx: ServiceContext) => Promise<StartedService>,
): Promise<void> {
  const runtimePath = argValue(process.argv, "--runtime");
  if (!runtimePath) {
    process.stderr.write(`usage: ${name} --runtime <runtime.json>\n`);
    process.exit(2);
  }
  const runtime = loadRuntimeConfig(runtimePath);
  const endpoint = runtime.services[name];
  const logger = createLogger({ experiment: runtime.experiment, component: name });
  const registry = createMetricsRegistry(name, runtime.experiment);
  const abort = new AbortController();
  const metrics = await startMetricsServer(registry, endpoint.metricsPort, endpoint.host);
  const nats = await connectNats(runtime.natsUrl, `sluice-${name}`);
  const events = new EventPublisher(nats, runtime.experiment, name, logger);
  const ctx: ServiceContext = { name, runtime, logger, registry, nats, events, signal: abort.signal };

  let stopping = false;
  let started: StartedService | undefined;
  let grpc: Awaited<ReturnType<typeof startGrpcServer>> | undefined;
  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info("stopping", { reason });
    abort.abort();
    const force = setTimeout(() => {
      logger.error("shutdown exceeded grace period; exiting", { graceMs: SHUTDOWN_GRACE_MS });
      process.exit(code || 1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      await started?.stop();
      await grpc?.shutdown(2_000);
      await metrics.close();
      await nats.close();
    } catch (err) {
      logger.error("error during shutdown", { err: errorMessage(err) });
    }
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
  process.on("SIGINT", () => void shutdown("SIGINT", 0));
  process.on("uncaughtException", (err) => {
    logger.error("uncaught exception", { err });
    void events.emit({ kind: "component_crashed", severity: "error", message: errorMessage(err) }).finally(() => {
      void shutdown("uncaught exception", 1);
    });
  });
  process.on("unhandledRejection", (err) => {
    logger.error("unhandled rejection", { err: errorMessage(err) });
    void events.emit({ kind: "component_crashed", severity: "error", message: errorMessage(err) }).finally(() => {
      void shutdown("unhandled rejection", 1);
    });
  });
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) void shutdown("parent process exited", 0);
  }, 500).unref();

  try {
    started = await start(ctx);
    grpc = await startGrpcServer({
      host: endpoint.host,
      port: endpoint.grpcPort,
      services: started.grpcServices,
      logger,
      registry,
    });
  } catch (err) {
    logger.error("failed to start", { err });
    await events.emit({ kind: "component_failed_to_start", severity: "error", message: errorMessage(err) });
    await shutdown("start failed", 1);
    return;
  }
  logger.info("ready", { grpcPort: grpc.port, metricsPort: metrics.port });
  await events.emit({ kind: "component_ready", attributes: { grpcPort: String(grpc.port) } });
}
