import { sandboxSchema, type ExperimentSpec } from "@sluice/common";
import type { SandboxDefaults } from "./limits.js";

/** Backend defaults from a spec's `sandbox` section (or the schema defaults when none is given). */
export function sandboxDefaultsFromSpec(s: ExperimentSpec["sandbox"] = sandboxSchema.parse({})): SandboxDefaults {
  return {
    limits: {
      memoryBytes: s.memoryBytes,
      maxProcesses: s.maxProcesses,
      maxFileBytes: s.maxFileBytes,
      maxOpenFiles: s.maxOpenFiles,
      cpuSeconds: s.cpuSeconds,
    },
    commandTimeoutMs: s.commandTimeoutMs,
    maxOutputBytes: s.maxOutputBytes,
  };
}
