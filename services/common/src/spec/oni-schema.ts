import { z } from "zod";

/**
 * ONI (Zheng et al., arXiv 2410.23022) configuration: asynchronous LLM annotation,
 * the label store, intrinsic reward variants and their combination with the extrinsic
 * reward. Every value the paper leaves open is a key here with a documented default.
 */
const judge = z
  .object({
    baseUrl: z
      .string()
      .url()
      .default("http://127.0.0.1:8000")
      .describe("OpenAI-compatible server root (no /v1); default http://127.0.0.1:8000"),
    api: z
      .enum(["chat", "completions"])
      .default("chat")
      .describe("/v1/chat/completions or /v1/completions; default chat"),
    model: z.string().min(1).default("judge").describe("model name sent in each request; default judge"),
    temperature: z.number().min(0).default(0.1).describe("sampling temperature (ONI: 0.1); default 0.1"),
    maxTokens: z.number().int().positive().default(256).describe("max tokens per answer; default 256"),
    systemPrompt: z.string().default("").describe("chat only: system message; empty = none; default empty"),
    prompt: z
      .string()
      .includes("{text}")
      .default(
        "Rate whether this step of a software engineering agent makes progress.\n\n{text}\n\nEnd with 'Answer: 1' (progress) or 'Answer: 0' (no progress).",
      )
      .describe(
        "prompt template; {text} is replaced by the annotated text; default asks for 'Answer: 1' (progress) or 'Answer: 0'",
      ),
    requestDeadlineMs: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe("deadline of one HTTP request; default 60000"),
    retries: z
      .number()
      .int()
      .min(0)
      .default(3)
      .describe("retries of a failed request before the batch is returned; default 3"),
    backoffMs: z.number().int().min(0).default(500).describe("first retry delay; doubles per retry; default 500"),
    maxBackoffMs: z.number().int().min(0).default(10_000).describe("upper bound of the retry delay; default 10000"),
  })
  .strict();

const parser = z
  .object({
    pattern: z
      .string()
      .min(1)
      .default("Answer: (\\d)")
      .describe("regex; capture group 1 is the answer; default Answer: (\\d)"),
    flags: z
      .string()
      .regex(/^[imsu]*$/)
      .default("")
      .describe("regex flags (g is added internally); default empty"),
    match: z
      .enum(["first", "last"])
      .default("last")
      .describe("which match counts when the answer repeats; default last"),
    labels: z
      .record(z.string(), z.number())
      .optional()
      .describe("capture → label map (e.g. FIRST→0, SECOND→1, TIE→0.5); default absent = capture parsed as a number"),
    defaultLabel: z.number().default(0).describe("label of an unparseable answer (counted); default 0"),
  })
  .strict();

const annotator = z
  .object({
    batchSize: z.number().int().positive().default(16).describe("items per judge batch; default 16"),
    order: z
      .enum(["lifo", "fifo"])
      .default("lifo")
      .describe("newest-first (ONI) or oldest-first selection; default lifo"),
    backlogCap: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe("pending items kept; oldest dropped (ONI ranking: 10,000); default 10000"),
    idleWaitMs: z
      .number()
      .int()
      .positive()
      .default(250)
      .describe("longest sleep of an idle annotator before it re-checks; default 250"),
  })
  .strict();

const schedule = z
  .object({
    burstUntilLabels: z
      .number()
      .int()
      .min(0)
      .default(25_000)
      .describe("labelled-set size below which bursts run; default 25000"),
    burstSteps: z
      .number()
      .int()
      .min(0)
      .default(32)
      .describe("gradient steps per arrival of new labels in burst mode; default 32"),
    steadySteps: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe("gradient steps per training iteration afterwards; default 1"),
    learningRate: z.number().positive().default(1e-4).describe("Adam learning rate (engine); default 1e-4"),
    batchSize: z.number().int().positive().default(256).describe("reward-model batch size (engine); default 256"),
  })
  .strict();

const rewardModel = z
  .object({
    name: z
      .string()
      .min(1)
      .max(128)
      .default("oni")
      .describe(
        "engine reward-model name (classification / ranking); created at startup when missing, reused when present; default oni",
      ),
    loadPath: z
      .string()
      .default("")
      .describe(
        "a directory written by the engine's SaveRewardModel to start from; empty = fresh weights; default empty",
      ),
    seed: z.number().int().min(0).default(0).describe("initialisation seed of a fresh model; default 0"),
    tiny: z
      .record(z.string(), z.number().int().positive())
      .optional()
      .describe(
        "engine TinySpec fields of the backbone (hidden_size, num_hidden_layers, …); default the engine's small RM",
      ),
    maxTokens: z
      .number()
      .int()
      .positive()
      .default(512)
      .describe("tokens of a text the model reads (the last ones are kept); default 512"),
    trainIntervalMs: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe("period of the trainer loop; one period is one ONI training iteration; default 1000"),
    textCacheCap: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe("annotated texts (and ranking pairs) kept in memory for training; oldest dropped; default 100000"),
    scoreDeadlineMs: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe("deadline of scoring one trajectory's steps; past it the channel is 0 with gate closed; default 10000"),
  })
  .strict();

export const oniSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe("run the ONI annotator in the reward service and add the intrinsic channel `oni`; default false"),
    rewardType: z
      .enum(["retrieval", "classification", "ranking"])
      .default("retrieval")
      .describe(
        "ONI llm_reward_type: exact label lookup, classifier, or Bradley–Terry ranking model; default retrieval",
      ),
    cExt: z.number().default(1).describe("weight of the extrinsic reward; default 1"),
    cInt: z.number().default(0).describe("weight of the intrinsic reward (0 = off; paper: 0.4); default 0"),
    beta: z.number().min(0).default(3).describe("episodic count exponent: bonus N_ep(m)^(−β); default 3"),
    keyHexChars: z
      .number()
      .int()
      .min(16)
      .max(64)
      .default(32)
      .describe("sha256 hex prefix length of an annotation key; default 32"),
    classificationThreshold: z.number().min(0).max(1).default(0.5).describe("τ in r_int = 1[p₁ > τ]; default 0.5"),
    ranking: z
      .object({
        normalise: z
          .boolean()
          .default(false)
          .describe("running mean/std normalisation of r_φ (public code: off); default false"),
        threshold: z.boolean().default(false).describe("apply r̂ · 1[r̂ > thresholdValue]; default false"),
        thresholdValue: z.number().default(-0.5).describe("threshold of r̂ · 1[r̂ > thresholdValue]; default -0.5"),
      })
      .strict()
      .prefault({})
      .describe("ranking-variant post-processing (engine); default both off"),
    judge: judge.prefault({}).describe("the annotating judge (OpenAI-compatible endpoint)"),
    parser: parser.prefault({}).describe("how a judge answer becomes a label"),
    annotator: annotator.prefault({}).describe("backlog and batching of the annotator"),
    schedule: schedule.prefault({}).describe("reward-model training schedule (engine; classification / ranking)"),
    rewardModel: rewardModel
      .prefault({})
      .describe(
        "the engine-hosted reward model of the classification / ranking variants. Ranking annotates pairs of consecutive new steps (judge text 'First:…Second:…'); configure judge.prompt and parser.labels (FIRST→0, SECOND→1, TIE→0.5) for it",
      ),
    labelBucketSuffix: z
      .string()
      .regex(/^[a-z0-9_]+$/)
      .default("oni_labels")
      .describe("KV bucket sluice_<exp>_<suffix>; default oni_labels"),
  })
  .strict();

export type OniConfig = z.infer<typeof oniSchema>;
export type OniJudgeConfig = OniConfig["judge"];
export type OniParserConfig = OniConfig["parser"];
export type OniAnnotatorConfig = OniConfig["annotator"];
export type OniScheduleConfig = OniConfig["schedule"];
export type OniRankingConfig = OniConfig["ranking"];
export type OniRewardModelConfig = OniConfig["rewardModel"];
