import { z } from "zod";
import { oniSchema } from "./oni-schema.js";
import { prmSchema } from "./prm-schema.js";
import { evaluationSchema } from "./evaluation-schema.js";
import { guidanceSchema } from "./guidance-schema.js";

// Types only: the schemas themselves are reached through rewardSchema (the public value
// exports of @sluice/common are pinned).
export type {
  OniConfig,
  OniJudgeConfig,
  OniParserConfig,
  OniAnnotatorConfig,
  OniScheduleConfig,
  OniRankingConfig,
} from "./oni-schema.js";
export type { PrmConfig } from "./prm-schema.js";
export type { GuidanceConfig } from "./guidance-schema.js";

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
    lora: z
      .object({
        r: z.number().int().positive().default(8).describe("adapter rank; default 8"),
        alpha: z.number().positive().default(16).describe("scaling α (the update is scaled by α/r); default 16"),
        targetModules: z
          .array(z.string().min(1))
          .default([])
          .describe("module names to adapt; empty: every linear layer but the output head; default empty"),
      })
      .strict()
      .optional()
      .describe(
        "train a LoRA adapter through peft instead of every weight (needed for inference.backend vllm); default off",
      ),
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
    seeded: z
      .boolean()
      .default(true)
      .describe(
        "send each request a seed derived from (seed, group ordinal, member, turn), so a rollout is reproducible given the weights whatever it is batched with; default true",
      ),
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
    admissionLeaseMs: z
      .number()
      .int()
      .min(1_000)
      .default(60_000)
      .describe(
        "an actor renews the lease of its in-flight groups every third of this; a group whose actor stops renewing (killed) is run again by another actor; default 60000",
      ),
    partialRollouts: z
      .boolean()
      .default(true)
      .describe(
        "true: a weight update interrupts in-flight generations, which resume under the new weights (every token keeps the version that produced it; AReaL's interruptible rollouts); false: they run to completion and the update waits; default true",
      ),
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

const outcomeLevelName = z.enum(["NO_SUBMIT", "EMPTY_PATCH", "PATCH_APPLY_FAILED", "TESTS_FAIL", "RESOLVED"]);

/** One rule-based step critic: `reward` on a turn that passes the check, `penalty` on one that fails it. */
const stepCritic = (what: string, enabled: boolean, reward: number, penalty: number) =>
  z
    .object({
      enabled: z.boolean().default(enabled).describe(`score ${what}; default ${enabled}`),
      reward: z.number().default(reward).describe(`per-turn value when the check passes; default ${reward}`),
      penalty: z.number().default(penalty).describe(`per-turn value when the check fails; default ${penalty}`),
    })
    .strict()
    .prefault({});

const stepCriticsSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "add the rule-based step-critic channel `steps` (G-RA's low-level rewards, arXiv 2508.10548); default false",
      ),
    weight: z.number().default(1).describe("channel weight in the composition; default 1"),
    validToolCall: stepCritic("a turn whose tool calls are all well formed and valid (ToolCall.valid)", true, 0.1, 0),
    commandSucceeded: stepCritic("a turn whose bash-like tool calls all exited 0", true, 0.1, 0),
    editApplied: stepCritic("a turn whose file edits (create/str_replace/insert) all applied", true, 0.1, 0),
    noRepeat: stepCritic("a turn that does not exactly repeat the previous turn's action", true, 0, -0.1),
    bashTools: z
      .array(z.string().min(1))
      .default(["bash", "execute_bash"])
      .describe('tool names whose exit_code is a command status; default ["bash", "execute_bash"]'),
    editTools: z
      .array(z.string().min(1))
      .default(["str_replace_editor", "file_editor"])
      .describe('tool names that edit files; default ["str_replace_editor", "file_editor"]'),
    editCommands: z
      .array(z.string().min(1))
      .default(["create", "str_replace", "insert"])
      .describe('editor `command` arguments that modify a file; default ["create", "str_replace", "insert"]'),
  })
  .strict();

const overlongSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe("add DAPO's soft overlong punishment channel `overlong` (arXiv 2503.14476); default false"),
    maxLength: z.number().int().positive().default(20480).describe("L_max in action tokens; default 20480 (DAPO)"),
    cacheLength: z
      .number()
      .int()
      .positive()
      .default(4096)
      .describe("L_c, the soft punishment interval; default 4096 (DAPO); must be < maxLength"),
    scope: z
      .enum(["episode", "turn"])
      .default("episode")
      .describe(
        "episode: |y| = all action tokens of the episode; turn: each turn's own length, summed; default episode",
      ),
    weight: z.number().default(1).describe("channel weight in the composition; default 1"),
  })
  .strict()
  .refine((o) => o.cacheLength < o.maxLength, {
    message: "cacheLength must be below maxLength",
    path: ["cacheLength"],
  });

const vetoSchema = z
  .object({
    patchTooLarge: z
      .object({
        enabled: z.boolean().default(false).describe("veto `patch_too_large`; default false"),
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(1_000_000)
          .describe(
            "fail when the verifier report says patch_too_large or its size_bytes / patch_bytes exceed this; default 1000000",
          ),
      })
      .strict()
      .prefault({}),
    invalidToolCalls: z
      .object({
        enabled: z.boolean().default(false).describe("veto `invalid_tool_calls`; default false"),
        max: z.number().int().min(0).default(0).describe("invalid tool calls allowed before the veto fails; default 0"),
      })
      .strict()
      .prefault({}),
    testsModified: z
      .object({
        enabled: z.boolean().default(false).describe("veto `tests_modified`; default false"),
        key: z
          .string()
          .min(1)
          .default("tests_modified")
          .describe(
            'fail when Trajectory.metadata[key] is "true" or the verifier report\'s key is true; default tests_modified',
          ),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .describe("rubric-style veto channels: a failed check zeroes the total reward (structurally a G-RA gate)");

const pureSchema = z
  .object({
    channels: z
      .array(z.string().min(1))
      .default([])
      .describe("step channels whose per-turn values get PURE's min-form credit (arXiv 2504.15275); default none"),
    temperature: z.number().positive().default(0.1).describe("T in w_i = softmax_i(-r_i/T); default 0.1 (PURE)"),
  })
  .strict();

const envStepsSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "add the channel `env_steps`: the environment's own per-turn scores (Outcome.turn_scores) as a step channel, e.g. G-RA's low-level rewards with outcome.source level (arXiv 2508.10548); default false",
      ),
    weight: z.number().default(1).describe("channel weight in the composition; default 1"),
  })
  .strict();

const gateSchema = z
  .object({
    channel: z.string().min(1).describe("channel name"),
    priority: z.number().default(1).describe("p_i; channels not listed have priority 0; default 1"),
    threshold: z
      .union([z.number(), outcomeLevelName])
      .default("TESTS_FAIL")
      .describe(
        "delta_i, compared with >= on the channel's raw value; a level name means that level's configured outcome value; default TESTS_FAIL",
      ),
  })
  .strict();

const compositionSchema = z
  .object({
    kind: z
      .enum(["sum", "dra", "gra"])
      .default("sum")
      .describe(
        "sum / dra: R = r_high + sum_t r_low,t (direct accumulation); gra: G-RA prioritised gates (arXiv 2508.10548); default sum",
      ),
    gates: z
      .array(gateSchema)
      .default([{ channel: "outcome", priority: 1, threshold: "TESTS_FAIL" }])
      .describe(
        "G-RA gates (kind gra only); default: outcome at priority 1 with delta = TESTS_FAIL (a submitted non-empty patch opens it); set threshold RESOLVED for 'only when resolved'",
      ),
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
    stepCritics: stepCriticsSchema.prefault({}),
    envSteps: envStepsSchema.prefault({}),
    overlong: overlongSchema.prefault({}),
    veto: vetoSchema.prefault({}),
    pure: pureSchema.prefault({}),
    composition: compositionSchema.prefault({}),
    prm: prmSchema.prefault({}).describe("generative PRM step channel `prm` (judge-scored steps); default off"),
    oni: oniSchema
      .prefault({})
      .describe("ONI asynchronous LLM annotation and intrinsic channel `oni` (arXiv 2410.23022); default off"),
    metricsWindow: z
      .number()
      .int()
      .positive()
      .default(256)
      .describe("CR / MR / RR and per-channel means are over the last N scored episodes; default 256"),
  })
  .strict();

export const algorithmSchema = z
  .object({
    advantage: z
      .enum(["grpo", "dr_grpo", "rloo", "reinforce_pp"])
      .default("grpo")
      .describe(
        "grpo: (r − mean_g)/(std_g + ε) (stdNormalization says which std); dr_grpo: r − mean_g; rloo: r − mean of the others; reinforce_pp: r − mean_g, then normalised over the whole batch (REINFORCE++ with baseline); default grpo",
      ),
    creditAssignment: z
      .enum(["episode", "turn"])
      .default("episode")
      .describe("episode: one advantage per trajectory; turn: per-turn group statistics from per-turn rewards"),
    stdNormalization: z.enum(["population", "sample", "none"]).default("population"),
    loss: z
      .enum(["ppo_clip", "reinforce", "decoupled_ppo", "truncated_is"])
      .default("ppo_clip")
      .describe(
        "ppo_clip: ρ = π_θ/π_behav; decoupled_ppo (AReaL): clip against the proximal policy recomputed by the learner, weighted by π_prox/π_behav; truncated_is: the same with the weight truncated at truncatedIsCap; reinforce: −Â·log π; default ppo_clip",
      ),
    behaviourWeightCap: z
      .number()
      .min(0)
      .default(0)
      .describe("decoupled_ppo: tokens with π_prox/π_behav above this leave the loss (AReaL); 0 = no cap; default 0"),
    truncatedIsCap: z
      .number()
      .positive()
      .default(2)
      .describe("truncated_is: C in min(π_prox/π_behav, C) (Yao et al. 2025); default 2"),
    clipEpsilonLow: z.number().min(0).max(1).default(0.2),
    clipEpsilonHigh: z.number().min(0).max(10).default(0.28),
    lossNormalization: z.enum(["token_mean", "sequence_mean", "constant"]).default("token_mean"),
    normalizationConstant: z.number().positive().default(1024),
    dynamicSampling: z
      .boolean()
      .default(false)
      .describe(
        "DAPO dynamic sampling: drop groups whose rewards are all equal (zero advantage everywhere; counted as zero_variance) and let admission refill them; default false",
      ),
    miniBatches: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe(
        "PPO mini-batches per step: the step's sequences are shuffled (seeded) and split into this many parts, one optimizer update each, all against the behaviour logprobs (verl: ppo_mini_batch_size = batch / miniBatches); the policy version moves once per step; default 1",
      ),
    klCoef: z
      .number()
      .min(0)
      .max(10)
      .default(0)
      .describe(
        "β of the per-token k3 KL to a frozen reference policy (the initial weights, hosted by the engine as `<model.name>-ref`), added to the loss: l_t += β·k3_t (GRPO, arXiv 2402.03300); 0: no reference model, no KL; default 0",
      ),
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
    exportTrainedData: z
      .boolean()
      .default(false)
      .describe(
        "append every trained trajectory (task, step, pass/fail, transcript) to <runDir>/guided-data.jsonl, the data of a test-time reward model (sluice eval); always on with guidance; default false",
      ),
    ackWaitMs: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        "JetStream ack wait of the learner's consumer: how long messages a dead learner held unacked wait before a restarted learner gets them again (a live learner keeps extending its own); 0: max(60000, stepTimeoutMs); default 0",
      ),
  })
  .strict();

export const sandboxSchema = z
  .object({
    backend: z
      .enum(["bubblewrap", "kubernetes"])
      .default("bubblewrap")
      .describe(
        "bubblewrap: local namespaces on the sandbox service's host; kubernetes: a warm pool of hardened sandbox pods, configured by the operator (SLUICE_SANDBOX_K8S_*); default bubblewrap",
      ),
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

const inferenceSchema = z
  .object({
    backend: z
      .enum(["engine", "vllm", "sglang"])
      .default("engine")
      .describe(
        "who serves the policy to the gateway: engine (the colocated engine samples with the trained weights, nothing to publish); vllm (each version is a LoRA adapter <runDir>/weights/v<N> loaded as `<loraNamePrefix><N>` through /v1/load_lora_adapter; needs model LoRA and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True on the server); sglang (merged full weights <runDir>/weights/v<N> through /update_weights_from_disk); default engine",
      ),
    url: z
      .string()
      .default("")
      .describe("base URL of the vLLM / SGLang server, e.g. http://10.0.0.5:8000; required unless backend is engine"),
    apiKeyEnv: z
      .string()
      .default("")
      .describe("env var holding the server's API key (sent as Authorization: Bearer); empty: none; default empty"),
    requestTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(120_000)
      .describe("deadline of one weight-update HTTP call (loading weights can take a while); default 120000"),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe("retries of a call that failed with a 5xx, a timeout or a connection error; default 3"),
    retryBackoffMs: z
      .number()
      .int()
      .positive()
      .default(500)
      .describe("wait before the first retry, doubled after each; default 500"),
    weightsDir: z
      .string()
      .default("")
      .describe(
        "where published versions are written (must be readable by the server at the same path); empty: <runDir>/weights",
      ),
    loraNamePrefix: z
      .string()
      .default("")
      .describe("vllm: adapter names are <prefix><version>; empty: `<model.name>-v` (policy-v3); default empty"),
    keepVersions: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        "vllm: adapters kept loaded (the newest and older ones in-flight requests may still name); 0: rollout.maxStaleness + 1; default 0",
      ),
    servedModelName: z
      .string()
      .default("")
      .describe("sglang: the server's --served-model-name; empty: model.name; default empty"),
    loadFormat: z
      .string()
      .default("")
      .describe("sglang: load_format of /update_weights_from_disk; empty: the server's default; default empty"),
  })
  .strict()
  .refine((i) => i.backend === "engine" || /^https?:\/\/[^/]/.test(i.url), {
    message: "inference.url must be an http(s) URL when inference.backend is vllm or sglang",
    path: ["url"],
  });

/**
 * What `sluice up` does when a component dies (crash, OOM kill, kill -9). Default: no
 * restarts, so a crash fails the run and points at its log (a crash is usually a bug, and
 * a run that silently restarts hides it). With restarts, nats-server still fails the run
 * (it holds every stream); any other component is started again with backoff.
 */
const restartSchema = z
  .object({
    maxRestarts: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(0)
      .describe(
        "restarts allowed per component (engine, learner, gateway, reward, sandbox, each actor) before its death fails the run; 0: any death fails the run; default 0",
      ),
    backoffMs: z
      .number()
      .int()
      .min(0)
      .default(1_000)
      .describe("wait before a component's first restart, doubled for each further restart of it; default 1000"),
    maxBackoffMs: z.number().int().min(0).default(30_000).describe("cap of the doubled restart wait; default 30000"),
  })
  .strict()
  .refine((r) => r.maxBackoffMs >= r.backoffMs, {
    message: "restart.maxBackoffMs must be at least restart.backoffMs",
    path: ["maxBackoffMs"],
  });

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
    guidance: guidanceSchema
      .prefault({})
      .describe("Agent-RLVR guided re-attempts of failed episodes and how the learner trains on them; default off"),
    evaluation: evaluationSchema
      .prefault({})
      .describe("sample the final policy on held-out tasks (best-of-N candidates for sluice eval); default off"),
    inference: inferenceSchema
      .prefault({})
      .describe("where rollouts sample from and how each new policy version reaches it; default the engine"),
    restart: restartSchema
      .prefault({})
      .describe("restarts of components that die during `sluice up` (sluice up --max-restarts overrides maxRestarts)"),
  })
  .strict()
  // A restarted learner resumes from its newest checkpoint; without periodic checkpoints it
  // would start over from the initial weights while the data it acked is gone.
  .refine((s) => s.restart.maxRestarts === 0 || s.learner.checkpointEvery >= 1, {
    message:
      "restart.maxRestarts > 0 needs learner.checkpointEvery >= 1 (a restarted learner resumes from a checkpoint)",
    path: ["restart", "maxRestarts"],
  });

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
/** The spec's `inference` block: the inference backend and how versions are published to it. */
export type InferenceConfig = z.infer<typeof inferenceSchema>;
