import { counter, histogram } from "@sluice/common";
import type { Registry } from "prom-client";

/** SWE-specific metrics: tool calls, verifications and their outcomes. */
export class SweMetrics {
  private readonly tools;
  private readonly toolDuration;
  private readonly verifications;
  private readonly verifyDuration;
  private readonly taskSandboxDuration;

  constructor(registry: Registry) {
    this.tools = counter(registry, "sluice_sandbox_tool_calls_total", "agent tool calls by tool and result", [
      "tool",
      "result",
    ]);
    this.toolDuration = histogram(
      registry,
      "sluice_sandbox_tool_duration_seconds",
      "tool call wall time",
      [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    );
    this.verifications = counter(registry, "sluice_sandbox_verifications_total", "verifications by outcome level", [
      "level",
    ]);
    this.verifyDuration = histogram(
      registry,
      "sluice_sandbox_verify_duration_seconds",
      "verification wall time",
      [0.5, 1, 2, 5, 10, 30, 60, 300],
    );
    this.taskSandboxDuration = histogram(
      registry,
      "sluice_sandbox_task_sandbox_create_seconds",
      "CreateTaskSandbox wall time (includes a first environment build)",
      [0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120],
    );
  }

  toolCall(tool: string, result: "ok" | "nonzero" | "invalid" | "timeout" | "submit", ms: number): void {
    // Unknown tool names are the model's free text: never a label value.
    const known = ["bash", "execute_bash", "str_replace_editor", "file_editor", "submit", "finish"];
    this.tools.inc({ tool: known.includes(tool) ? tool : "unknown", result });
    this.toolDuration.observe(ms / 1000);
  }

  verified(level: string, ms: number): void {
    this.verifications.inc({ level });
    this.verifyDuration.observe(ms / 1000);
  }

  taskSandboxCreated(ms: number): void {
    this.taskSandboxDuration.observe(ms / 1000);
  }
}
