#!/usr/bin/env node
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import {
  createLogger,
  createMetricsRegistry,
  errorMessage,
  startGrpcServer,
  startMetricsServer,
  type LogLevel,
} from "@sluice/common";
import { operatorConfigFromEnv } from "./config.js";
import { realClock } from "./controller/clock.js";
import { RestKubeApi } from "./kube/rest-client.js";
import { OperatorMetrics } from "./metrics.js";
import { startOperator } from "./operator.js";
import { NatsExperimentResources } from "./reconcile/streams.js";

// The operator process: kubeconfig from the pod's service account (or KUBECONFIG), /metrics,
// /healthz, /readyz on the metrics port, gRPC health like every other service, leader election
// (SLUICE_OPERATOR_* variables set by the chart), orderly shutdown.
const env = (name: string, fallback: string): string => process.env[`SLUICE_OPERATOR_${name}`] || fallback;
const level = env("LOG_LEVEL", "info") as LogLevel;
const logger = createLogger({ experiment: "-", component: "operator", level });
const config = operatorConfigFromEnv();
const registry = createMetricsRegistry("operator", "-");
const metrics = new OperatorMetrics(registry);
const kc = new KubeConfig();
kc.loadFromDefault();
const api = new RestKubeApi(kc);
const nats = new NatsExperimentResources(config.natsUrl, logger);
const identity = env("IDENTITY", `${hostname()}-${randomBytes(4).toString("hex")}`);
const host = env("BIND", "0.0.0.0");

let stopping = false;
const shutdown = async (reason: string, code: number): Promise<void> => {
  if (stopping) return;
  stopping = true;
  logger.info("stopping", { reason });
  const force = setTimeout(() => process.exit(code || 1), 10_000);
  force.unref();
  try {
    await operator.stop(true);
    await nats.close();
    await grpc.shutdown(2_000);
    await health.close();
  } catch (err) {
    logger.error("error during shutdown", { err: errorMessage(err) });
  }
  process.exit(code);
};

const operator = startOperator({
  api,
  streams: nats,
  progress: nats,
  clock: realClock,
  logger,
  config,
  identity,
  leaderElection: env("LEADER_ELECTION", "true") !== "false",
  leaseName: env("LEASE_NAME", "sluice-operator"),
  leaseNamespace: env("LEASE_NAMESPACE", process.env.POD_NAMESPACE ?? "default"),
  leaseTimings: {
    leaseDurationMs: Number(env("LEASE_DURATION_MS", "15000")),
    renewDeadlineMs: Number(env("RENEW_DEADLINE_MS", "10000")),
    retryPeriodMs: Number(env("RETRY_PERIOD_MS", "2000")),
  },
  metrics,
  // A replica that lost the lease exits: the pod restarts and campaigns again from a clean state.
  onLostLeadership: () => void shutdown("lost leadership", 1),
});
const health = await startMetricsServer(registry, Number(env("METRICS_PORT", "9090")), host, () => operator.ready());
const grpc = await startGrpcServer({ host, port: Number(env("GRPC_PORT", "50051")), services: [], logger, registry });
process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
process.on("SIGINT", () => void shutdown("SIGINT", 0));
logger.info("operator started", { identity, metricsPort: health.port, grpcPort: grpc.port, natsUrl: config.natsUrl });
