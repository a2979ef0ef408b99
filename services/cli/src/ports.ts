import { freePort } from "@sluice/common/internal";
import type { ExperimentManifest, RuntimeConfig, ServiceEndpoint, ServiceName } from "@sluice/common";
import { RunFailedError } from "./errors.js";

export const SERVICE_NAMES: readonly ServiceName[] = ["engine", "sandbox", "gateway", "actor", "reward", "learner"];
export const LOOPBACK = "127.0.0.1";

export interface AllocatedPorts {
  nats: number;
  services: Record<ServiceName, ServiceEndpoint>;
}

/**
 * Picks distinct free loopback ports for NATS and every service. freePort() releases the
 * port before returning, so we also de-duplicate: the OS may hand the same one out twice.
 */
export async function allocatePorts(pick: () => Promise<number> = freePort): Promise<AllocatedPorts> {
  const used = new Set<number>();
  const next = async (): Promise<number> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const p = await pick();
      if (!used.has(p)) {
        used.add(p);
        return p;
      }
    }
    throw new Error("could not find distinct free ports");
  };
  const nats = await next();
  const services = {} as Record<ServiceName, ServiceEndpoint>;
  for (const name of SERVICE_NAMES) {
    const endpoint: ServiceEndpoint = { host: LOOPBACK, grpcPort: await next(), metricsPort: await next() };
    if (name === "gateway") endpoint.httpPort = await next();
    services[name] = endpoint;
  }
  return { nats, services };
}

/**
 * Judge `baseUrl` placeholder (`reward.oni.judge`, `reward.prm.judge`): the run's own gateway,
 * i.e. the policy model served by the engine acts as judge. `sluice up` resolves it to
 * `http://127.0.0.1:<gateway http port>` in runtime.json.
 */
export const OWN_GATEWAY_URL = "sluice://gateway";

type Spec = ExperimentManifest["spec"];

/** The spec with every judge `baseUrl` equal to OWN_GATEWAY_URL pointed at the gateway's HTTP port. */
export function resolveOwnGateway(spec: Spec, gateway: ServiceEndpoint): Spec {
  const own = (url: string): boolean => url.replace(/\/+$/, "") === OWN_GATEWAY_URL;
  const { oni, prm } = spec.reward;
  if (!own(oni.judge.baseUrl) && !own(prm.judge.baseUrl)) return spec;
  if (gateway.httpPort === undefined) {
    throw new RunFailedError(`judge baseUrl ${OWN_GATEWAY_URL}: the gateway has no HTTP port`, {
      context: { gateway },
    });
  }
  const url = `http://${gateway.host}:${gateway.httpPort}`;
  const resolve = <J extends { baseUrl: string }>(judge: J): J =>
    own(judge.baseUrl) ? { ...judge, baseUrl: url } : judge;
  return {
    ...spec,
    reward: { ...spec.reward, oni: { ...oni, judge: resolve(oni.judge) }, prm: { ...prm, judge: resolve(prm.judge) } },
  };
}

export function buildRuntimeConfig(manifest: ExperimentManifest, runDir: string, ports: AllocatedPorts): RuntimeConfig {
  return {
    experiment: manifest.metadata.name,
    spec: resolveOwnGateway(manifest.spec, ports.services.gateway),
    runDir,
    natsUrl: `nats://${LOOPBACK}:${ports.nats}`,
    services: ports.services,
  };
}
