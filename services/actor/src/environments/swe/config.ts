import { z } from "zod";
import { parseEnvironmentConfig } from "../config.js";

export const SWE_ENVIRONMENT = "swe";

const positiveInt = z.number().int().positive();

/**
 * `spec.environment.config` of the "swe" environment. Limits end an episode gracefully
 * (what the agent changed is still graded); RPC deadlines bound each sandbox call.
 */
export const sweConfigSchema = z
  .object({
    tasks: z
      .array(z.string().min(1))
      .min(1)
      .describe("task files or directories; relative paths resolve against $SLUICE_SPEC_DIR, else the cwd"),
    instances: z.array(z.string().min(1)).min(1).optional().describe("only these instance_ids"),
    maxTurns: positiveInt.default(30),
    wallTimeMs: positiveInt.default(1_200_000),
    maxContextTokens: positiveInt.default(32_768).describe("prompt + completion tokens of one turn"),
    maxFormatErrors: positiveInt.default(3).describe("consecutive turns without a valid tool call"),
    toolTimeoutMs: positiveInt.optional().describe("unset: the sandbox service's default"),
    maxObservationBytes: positiveInt.optional().describe("unset: the sandbox service's default"),
    sandboxAddress: z.string().min(1).optional().describe("host:port; unset: runtime services.sandbox"),
    createTimeoutMs: positiveInt.default(600_000).describe("CreateTaskSandbox deadline (may build the env)"),
    verifyTimeoutMs: positiveInt.default(900_000).describe("Verify deadline (fresh sandbox + tests)"),
  })
  .strict();

export type SweConfig = z.infer<typeof sweConfigSchema>;

export function parseSweConfig(raw: unknown): SweConfig {
  return parseEnvironmentConfig(SWE_ENVIRONMENT, sweConfigSchema, raw);
}
