import { readFileSync } from "node:fs";
import { ValidationError } from "./errors.js";
import type { ExperimentSpec } from "./spec/schema.js";

/** Where one service listens. Port 0 means "pick one and report it". */
export interface ServiceEndpoint {
  host: string;
  grpcPort: number;
  metricsPort: number;
  /** HTTP port for services that speak HTTP (the gateway). */
  httpPort?: number;
}

export type ServiceName = "engine" | "sandbox" | "gateway" | "actor" | "reward" | "learner";

/**
 * What `sluice up` (or the operator) hands every service process: the validated
 * spec, the NATS URL and each service's address. Written as JSON in the run dir.
 */
export interface RuntimeConfig {
  experiment: string;
  spec: ExperimentSpec;
  runDir: string;
  natsUrl: string;
  services: Record<ServiceName, ServiceEndpoint>;
}

export function loadRuntimeConfig(path: string): RuntimeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new ValidationError(`runtime config ${path}: ${(cause as Error).message}`, { cause });
  }
  const cfg = raw as Partial<RuntimeConfig>;
  for (const key of ["experiment", "spec", "runDir", "natsUrl", "services"] as const) {
    if (cfg[key] === undefined) throw new ValidationError(`runtime config ${path}: missing field ${key}`);
  }
  return cfg as RuntimeConfig;
}

export function grpcAddress(e: ServiceEndpoint): string {
  return `${e.host}:${e.grpcPort}`;
}

/** Reads `--name value` from argv. */
export function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
