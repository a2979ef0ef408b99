import type { SandboxLimitsSpec } from "./backend.js";

/** The operator's sandbox configuration (spec.sandbox): maxima and per-command defaults. */
export interface SandboxDefaults {
  limits: SandboxLimitsSpec;
  commandTimeoutMs: number;
  maxOutputBytes: number;
}

/** Hard caps on per-request overrides, whatever the spec says: keep replies well under gRPC's 64 MiB. */
export const MAX_COMMAND_TIMEOUT_MS = 60 * 60 * 1000;
export const MAX_OUTPUT_BYTES_CAP = 16 * 1024 * 1024;
export const DEFAULT_READ_BYTES = 8 * 1024 * 1024;
export const MAX_READ_BYTES = 32 * 1024 * 1024;

/**
 * Per-sandbox limits: a request may tighten the configured limits but never loosen them,
 * since the spec's values are what the operator sized the host for.
 */
export function clampLimits(
  configured: SandboxLimitsSpec,
  requested: Partial<SandboxLimitsSpec> | undefined,
): SandboxLimitsSpec {
  const pick = (key: keyof SandboxLimitsSpec): number => {
    const r = requested?.[key] ?? 0;
    return r > 0 ? Math.min(r, configured[key]) : configured[key];
  };
  return {
    memoryBytes: pick("memoryBytes"),
    maxProcesses: pick("maxProcesses"),
    maxFileBytes: pick("maxFileBytes"),
    maxOpenFiles: pick("maxOpenFiles"),
    cpuSeconds: pick("cpuSeconds"),
  };
}

/** A positive requested value capped at `cap`, else the default. */
export function orDefault(requested: number, fallback: number, cap: number): number {
  return requested > 0 ? Math.min(requested, cap) : Math.min(fallback, cap);
}
