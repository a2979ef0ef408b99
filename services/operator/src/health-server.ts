import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * /metrics, /healthz (the process runs) and /readyz (`ready()`: a standby replica is ready, a
 * leader once its informers have synced) — the probes the chart's operator Deployment uses.
 * common's metrics server has no /readyz, hence this one.
 */
export async function startHealthServer(
  registry: Registry,
  port: number,
  host: string,
  ready: () => boolean,
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    if (req.url === "/metrics") {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
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
