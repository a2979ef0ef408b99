import { Gauge, type Registry } from "prom-client";
import type { SandboxPool } from "./pool.js";

/**
 * The warm pool's gauges, read from the pool when Prometheus scrapes (no bookkeeping on the
 * claim/release path). The chart's SandboxPoolUnderTarget alert compares the first two.
 */
export function registerPoolMetrics(registry: Registry, pool: Pick<SandboxPool, "counts">, warmTarget: number): void {
  new Gauge({
    name: "sluice_sandbox_pool_warm",
    help: "ready sandbox pods idle in the warm pool",
    registers: [registry],
    collect() {
      this.set(pool.counts().idle);
    },
  });
  new Gauge({
    name: "sluice_sandbox_pool_warm_target",
    help: "warm pods the pool keeps ready (SLUICE_SANDBOX_K8S_WARM_PODS)",
    registers: [registry],
    collect() {
      this.set(warmTarget);
    },
  });
  new Gauge({
    name: "sluice_sandbox_pool_pods",
    help: "sandbox pods by state: idle, busy (claimed by an episode), starting",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const c = pool.counts();
      this.set({ state: "idle" }, c.idle);
      this.set({ state: "busy" }, c.busy);
      this.set({ state: "starting" }, c.starting);
    },
  });
}
