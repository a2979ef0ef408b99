import { freePort } from "@sluice/common/internal";
import type { ExperimentManifest, RuntimeConfig, ServiceEndpoint, ServiceName } from "@sluice/common";

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

export function buildRuntimeConfig(manifest: ExperimentManifest, runDir: string, ports: AllocatedPorts): RuntimeConfig {
  return {
    experiment: manifest.metadata.name,
    spec: manifest.spec,
    runDir,
    natsUrl: `nats://${LOOPBACK}:${ports.nats}`,
    services: ports.services,
  };
}
