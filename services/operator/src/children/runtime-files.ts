import {
  engineArgs as commonEngineArgs,
  type ExperimentSpec,
  type RLExperimentSpec,
  type RuntimeConfig,
  type ServiceEndpoint,
  type ServiceName,
} from "@sluice/common";
import type { Experiment } from "../experiment.js";
import { CONFIG_DIR, PORTS, RUN_DIR, childName, serviceHost } from "./names.js";

/** The Service (and so DNS name) each service process is reached at. */
const SERVICE_OF: Record<ServiceName, string> = {
  engine: "learner",
  learner: "learner",
  gateway: "gateway",
  sandbox: "sandboxes",
  reward: "reward",
  actor: "actors",
};

export const RUNTIME_SERVICES: readonly ServiceName[] = ["engine", "learner", "gateway", "sandbox", "reward", "actor"];

export function runtimeFileName(service: ServiceName): string {
  return `runtime-${service}.json`;
}

export function runtimePath(service: ServiceName): string {
  return `${CONFIG_DIR}/${runtimeFileName(service)}`;
}

/** The experiment spec as `sluice up` sees it: the Kubernetes-only blocks removed. */
export function localSpec(exp: Experiment, spec: RLExperimentSpec): ExperimentSpec {
  const { suspend: _s, runPolicy: _r, components: _c, ...rest } = spec;
  if (rest.inference.backend === "engine") return rest;
  // The inference server the operator runs answers at its Service, whatever URL the file named.
  return {
    ...rest,
    inference: { ...rest.inference, url: `http://${serviceHost(exp, "inference")}:${PORTS.inferenceHttp}` },
  };
}

/**
 * The runtime file of one service process (the same file `sluice up` writes): its own endpoint
 * binds every interface, the others are addressed by Service DNS name; the engine shares the
 * learner's pod, so the learner reaches it on loopback.
 */
export function runtimeConfigFor(
  exp: Experiment,
  spec: RLExperimentSpec,
  self: ServiceName,
  natsUrl: string,
): RuntimeConfig {
  const endpoint = (service: ServiceName): ServiceEndpoint => {
    const engine = service === "engine";
    const local = service === self || (self === "learner" && engine) || (self === "engine" && service === "learner");
    const host = service === self ? "0.0.0.0" : local ? "127.0.0.1" : serviceHost(exp, SERVICE_OF[service]);
    return {
      host,
      grpcPort: engine ? PORTS.engineGrpc : PORTS.grpc,
      metricsPort: engine ? PORTS.engineMetrics : PORTS.metrics,
      ...(service === "gateway" ? { httpPort: PORTS.http } : {}),
    };
  };
  const services = Object.fromEntries(RUNTIME_SERVICES.map((s) => [s, endpoint(s)])) as Record<
    ServiceName,
    ServiceEndpoint
  >;
  return { experiment: exp.name, spec: localSpec(exp, spec), runDir: RUN_DIR, natsUrl, services };
}

/** The engine's command line inside the learner pod: the same as `sluice up`'s, bound to 0.0.0.0. */
export function engineArgs(exp: Experiment, spec: ExperimentSpec): string[] {
  return commonEngineArgs(spec, exp.name, {
    host: "0.0.0.0",
    grpcPort: PORTS.engineGrpc,
    metricsPort: PORTS.engineMetrics,
  });
}

export { childName };
