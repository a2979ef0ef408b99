import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** One registry per service process, with the default Node metrics and a component label. */
export function createMetricsRegistry(component: string, experiment: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component, experiment });
  collectDefaultMetrics({ register: registry, prefix: "sluice_" });
  return registry;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text format), `/healthz` (the process runs) and `/readyz`
 * (`ready()`, default always; 503 while false, e.g. an operator replica before its informers
 * have synced). Port 0 picks a free port.
 */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host = "127.0.0.1",
  ready: () => boolean = () => true,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.url === "/metrics") {
      registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(body);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
      return;
    }
    if (req.url === "/healthz" || req.url === "/readyz") {
      const ok = req.url === "/healthz" || ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
      res.end(ok ? "ok\n" : "not ready\n");
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Helpers that register on a given registry (no global default registry). */
export function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export function histogram(
  registry: Registry,
  name: string,
  help: string,
  buckets: number[],
  labelNames: string[] = [],
): Histogram {
  return new Histogram({ name, help, buckets, labelNames, registers: [registry] });
}
