import { z } from "zod";

/**
 * The experiment spec. A local YAML file and the `spec` of an `RLExperiment` custom
 * resource share this schema. Objects are strict so a misspelt key is an error.
 */
const tinyModel = z
  .object({
    hiddenSize: z.number().int().positive().default(64).describe("transformer width"),
    layers: z.number().int().positive().default(2).describe("decoder layers"),
    heads: z.number().int().positive().default(4).describe("attention heads"),
    intermediateSize: z.number().int().positive().default(128).describe("MLP width"),
    maxPositionEmbeddings: z.number().int().positive().default(512),
  })
  .strict();

export const modelSchema = z
  .object({
    name: z.string().min(1).default("policy").describe("model name the engine registers"),
    source: z
      .enum(["tiny", "path"])
      .default("tiny")
      .describe("tiny: random init from config; path: local HF checkpoint"),
    path: z.string().optional().describe("local Hugging Face checkpoint directory when source=path"),
    tiny: tinyModel.prefault({}),
    device: z.enum(["auto", "cpu", "cuda"]).default("auto"),
    torchThreads: z.number().int().min(0).default(0).describe("engine intra-op CPU threads; 0: torch default"),
  })
  .strict()
  .refine((m) => m.source !== "path" || (m.path !== undefined && m.path.length > 0), {
    message: "model.path is required when model.source is 'path'",
    path: ["path"],
  });

const sampling = z
  .object({
    maxTokens: z.number().int().positive().max(32768).default(16),
    temperature: z.number().min(0).max(10).default(1.0),
    topP: z.number().gt(0).max(1).default(1.0),
  })
  .strict();

export const rolloutSchema = z
  .object({
    groupSize: z.number().int().min(1).max(1024).default(8).describe("G: episodes per task group"),
    groupsPerStep: z.number().int().min(1).default(4).describe("B: groups per learner step"),
    maxStaleness: z.number().int().min(0).default(0).describe("eta: 0 is synchronous on-policy"),
    maxConcurrentEpisodes: z.number().int().min(1).default(32),
    maxTurns: z.number().int().min(1).default(8),
    episodeTimeoutMs: z.number().int().positive().default(120_000),
    requestTimeoutMs: z.number().int().positive().default(60_000),
    actors: z.number().int().min(1).max(64).default(1),
    sampling: sampling.prefault({}),
  })
  .strict();

const outcomeLevels = z
  .object({
    NO_SUBMIT: z.number().default(-1),
    EMPTY_PATCH: z.number().default(-0.5),
    PATCH_APPLY_FAILED: z.number().default(-0.25),
    TESTS_FAIL: z.number().default(0),
    RESOLVED: z.number().default(1),
  })
  .strict();

export const rewardSchema = z
  .object({
    outcome: z
      .object({
        source: z
          .enum(["score", "level"])
          .default("score")
          .describe("score: the environment's scalar; level: mapped outcome level"),
        levels: outcomeLevels.prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const algorithmSchema = z
  .object({
    advantage: z.enum(["grpo", "dr_grpo", "rloo"]).default("grpo"),
    creditAssignment: z
      .enum(["episode", "turn"])
      .default("episode")
      .describe("episode: one advantage per trajectory; turn: per-turn group statistics from per-turn rewards"),
    stdNormalization: z.enum(["population", "sample", "none"]).default("population"),
    loss: z.enum(["ppo_clip", "reinforce"]).default("ppo_clip"),
    clipEpsilonLow: z.number().min(0).max(1).default(0.2),
    clipEpsilonHigh: z.number().min(0).max(10).default(0.28),
    lossNormalization: z.enum(["token_mean", "sequence_mean", "constant"]).default("token_mean"),
    normalizationConstant: z.number().positive().default(1024),
  })
  .strict();

export const optimizerSchema = z
  .object({
    learningRate: z.number().positive().default(1e-3),
    weightDecay: z.number().min(0).default(0),
    maxGradNorm: z.number().positive().default(1.0),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
  })
  .strict();

export const learnerSchema = z
  .object({
    maxAckPending: z.number().int().min(1).default(1024),
    groupTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(300_000)
      .describe("a group still incomplete after this is handled by incompleteGroupPolicy"),
    incompleteGroupPolicy: z
      .enum(["drop", "complete_partial"])
      .default("drop")
      .describe("a group past groupTimeoutMs: drop it, or train on the members that arrived (at least 2)"),
    stepTimeoutMs: z.number().int().positive().default(600_000),
    microBatchSequences: z.number().int().positive().default(64),
    checkpointEvery: z.number().int().min(0).default(0).describe("steps between checkpoints; 0: only at the end"),
  })
  .strict();

export const sandboxSchema = z
  .object({
    backend: z.enum(["bubblewrap"]).default("bubblewrap"),
    maxSandboxes: z.number().int().positive().default(64).describe("live sandboxes at once per sandbox service"),
    memoryBytes: z
      .number()
      .int()
      .positive()
      .default(2 * 1024 ** 3),
    maxProcesses: z.number().int().positive().default(256),
    maxFileBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 ** 2),
    maxOpenFiles: z.number().int().positive().default(1024),
    cpuSeconds: z.number().int().positive().default(600),
    commandTimeoutMs: z.number().int().positive().default(60_000),
    maxOutputBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024),
    cacheDir: z
      .string()
      .default("")
      .describe("built environments and task workspaces; empty: $SLUICE_CACHE_DIR or ~/.cache/sluice"),
    tasksDir: z
      .string()
      .default("")
      .describe("where relative env.lockfile paths of tasks resolve; relative to the spec file"),
    toolTimeoutMs: z.number().int().positive().default(60_000).describe("deadline of one agent tool call"),
    maxObservationBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1024)
      .describe("tool observations beyond this keep head and tail"),
    maxPatchBytes: z
      .number()
      .int()
      .positive()
      .default(1024 ** 2),
    swerex: z
      .object({
        enabled: z.boolean().default(false).describe("serve the SWE-ReX-compatible HTTP API"),
        apiKeyEnv: z.string().default("SLUICE_SWEREX_API_KEY").describe("env var holding the admin API key"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const watchdogSchema = z
  .object({
    stallTimeoutMs: z.number().int().positive().default(180_000).describe("no progress for this long is an error"),
  })
  .strict();

export const experimentSpecSchema = z
  .object({
    seed: z.number().int().min(0).default(0),
    steps: z.number().int().min(1).describe("learner steps to run"),
    model: modelSchema.prefault({}),
    environment: z
      .object({
        name: z.string().min(1).describe("registered environment name, e.g. digits"),
        config: z.record(z.string(), z.unknown()).default({}),
      })
      .strict(),
    rollout: rolloutSchema.prefault({}),
    reward: rewardSchema.prefault({}),
    algorithm: algorithmSchema.prefault({}),
    optimizer: optimizerSchema.prefault({}),
    learner: learnerSchema.prefault({}),
    sandbox: sandboxSchema.prefault({}),
    watchdog: watchdogSchema.prefault({}),
  })
  .strict();

export const experimentManifestSchema = z
  .object({
    apiVersion: z.literal("sluice.dev/v1alpha1"),
    kind: z.literal("RLExperiment"),
    metadata: z
      .object({
        name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lowercase letters, digits and '-' (a DNS label)"),
        namespace: z.string().optional(),
        labels: z.record(z.string(), z.string()).optional(),
      })
      .strict(),
    spec: experimentSpecSchema,
  })
  .strict();

export type ExperimentSpec = z.infer<typeof experimentSpecSchema>;
export type ExperimentManifest = z.infer<typeof experimentManifestSchema>;
