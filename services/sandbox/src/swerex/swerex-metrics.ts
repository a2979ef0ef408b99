import { counter, histogram } from "@sluice/common";
import type { Registry } from "prom-client";

/** Endpoints as metric labels; anything else is "other" so random paths cannot add series. */
export const ENDPOINTS = [
  "/",
  "/is_alive",
  "/create_session",
  "/run_in_session",
  "/close_session",
  "/execute",
  "/read_file",
  "/write_file",
  "/upload",
  "/close",
  "/sluice/sandboxes",
] as const;

export function endpointLabel(path: string): string {
  if (path.startsWith("/sluice/sandboxes/")) return "/sluice/sandboxes/:id";
  return (ENDPOINTS as readonly string[]).includes(path) ? path : "other";
}

export interface SwerexMetrics {
  observe(endpoint: string, status: number, seconds: number): void;
}

/** Request count by endpoint and status, and latency by endpoint; no-op without a registry. */
export function createSwerexMetrics(registry: Registry | undefined): SwerexMetrics {
  if (!registry) return { observe: () => undefined };
  const requests = counter(registry, "sluice_sandbox_swerex_requests_total", "SWE-ReX API requests", [
    "endpoint",
    "status",
  ]);
  const duration = histogram(
    registry,
    "sluice_sandbox_swerex_request_duration_seconds",
    "SWE-ReX API request latency",
    [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    ["endpoint"],
  );
  return {
    observe: (endpoint, status, seconds) => {
      requests.inc({ endpoint, status: String(status) });
      duration.observe({ endpoint }, seconds);
    },
  };
}
