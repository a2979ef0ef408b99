import { counter, gauge, histogram } from "@sluice/common";
import type { Registry } from "prom-client";
import type { ExecResult } from "./backend.js";

/** Sandbox service metrics; names follow sluice_<component>_<thing>. */
export class SandboxMetrics {
  private readonly live;
  private readonly created;
  private readonly destroyed;
  private readonly execDuration;
  private readonly execTimeouts;
  private readonly execs;

  constructor(registry: Registry) {
    this.live = gauge(registry, "sluice_sandbox_live", "sandboxes currently alive");
    this.created = counter(registry, "sluice_sandbox_created_total", "sandboxes created");
    this.destroyed = counter(registry, "sluice_sandbox_destroyed_total", "sandboxes destroyed");
    this.execDuration = histogram(
      registry,
      "sluice_sandbox_exec_duration_seconds",
      "wall-clock duration of sandboxed commands",
      [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    );
    this.execTimeouts = counter(registry, "sluice_sandbox_exec_timeouts_total", "commands killed at their deadline");
    this.execs = counter(registry, "sluice_sandbox_exec_total", "sandboxed commands by outcome", ["outcome"]);
  }

  setLive(n: number): void {
    this.live.set(n);
  }

  sandboxCreated(): void {
    this.created.inc();
  }

  sandboxDestroyed(): void {
    this.destroyed.inc();
  }

  execFinished(res: ExecResult): void {
    this.execDuration.observe(res.durationMs / 1000);
    if (res.timedOut) this.execTimeouts.inc();
    this.execs.inc({ outcome: execOutcome(res) });
  }
}

/** Bounded label values: exit codes themselves would explode cardinality. */
export function execOutcome(res: ExecResult): "ok" | "nonzero" | "signal" | "timeout" {
  if (res.timedOut) return "timeout";
  if (res.signal) return "signal";
  return res.exitCode === 0 ? "ok" : "nonzero";
}
