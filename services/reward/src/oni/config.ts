import { z } from "zod";

/**
 * ONI (Zheng et al., arXiv 2410.23022) configuration: asynchronous LLM annotation,
 * the label store, intrinsic reward variants and their combination with the extrinsic
 * reward. Every value the paper leaves open is a key here with a documented default.
 */
const judge = z
  .object({
    baseUrl: z.string().url().default("http://127.0.0.1:8000").describe("OpenAI-compatible server root (no /v1)"),
    api: z.enum(["chat", "completions"]).default("chat").describe("/v1/chat/completions or /v1/completions"),
    model: z.string().min(1).default("judge").describe("model name sent in each request"),
    temperature: z.number().min(0).default(0.1).describe("sampling temperature (ONI: 0.1)"),
    maxTokens: z.number().int().positive().default(256).describe("max tokens per answer"),
    systemPrompt: z.string().default("").describe("chat only: system message; empty = none"),
    prompt: z
      .string()
      .includes("{text}")
      .default(
        "Rate whether this step of a software engineering agent makes progress.\n\n{text}\n\nEnd with 'Answer: 1' (progress) or 'Answer: 0' (no progress).",
      )
      .describe("prompt template; {text} is replaced by the annotated text"),
    requestDeadlineMs: z.number().int().positive().default(60_000).describe("deadline of one HTTP request"),
    retries: z.number().int().min(0).default(3).describe("retries of a failed request before the batch is returned"),
    backoffMs: z.number().int().min(0).default(500).describe("first retry delay; doubles per retry"),
    maxBackoffMs: z.number().int().min(0).default(10_000).describe("upper bound of the retry delay"),
  })
  .strict();

const parser = z
  .object({
    pattern: z.string().min(1).default("Answer: (\\d)").describe("regex; capture group 1 is the answer"),
    flags: z
      .string()
      .regex(/^[imsu]*$/)
      .default("")
      .describe("regex flags (g is added internally)"),
    match: z.enum(["first", "last"]).default("last").describe("which match counts when the answer repeats"),
    labels: z
      .record(z.string(), z.number())
      .optional()
      .describe("capture → label map (e.g. FIRST→0, SECOND→1, TIE→0.5); absent = capture parsed as a number"),
    defaultLabel: z.number().default(0).describe("label of an unparseable answer (counted)"),
  })
  .strict();

const annotator = z
  .object({
    batchSize: z.number().int().positive().default(16).describe("items per judge batch"),
    order: z.enum(["lifo", "fifo"]).default("lifo").describe("newest-first (ONI) or oldest-first selection"),
    backlogCap: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe("pending items kept; oldest dropped (ONI ranking: 10,000)"),
    idleWaitMs: z
      .number()
      .int()
      .positive()
      .default(250)
      .describe("longest sleep of an idle annotator before it re-checks"),
  })
  .strict();

const schedule = z
  .object({
    burstUntilLabels: z.number().int().min(0).default(25_000).describe("labelled-set size below which bursts run"),
    burstSteps: z.number().int().min(0).default(32).describe("gradient steps per arrival of new labels in burst mode"),
    steadySteps: z.number().int().min(0).default(1).describe("gradient steps per training iteration afterwards"),
    learningRate: z.number().positive().default(1e-4).describe("Adam learning rate (engine)"),
    batchSize: z.number().int().positive().default(256).describe("reward-model batch size (engine)"),
  })
  .strict();

export const oniSchema = z
  .object({
    enabled: z.boolean().default(false),
    rewardType: z
      .enum(["retrieval", "classification", "ranking"])
      .default("retrieval")
      .describe("ONI llm_reward_type: exact label lookup, classifier, or Bradley–Terry ranking model"),
    cExt: z.number().default(1).describe("weight of the extrinsic reward"),
    cInt: z.number().default(0).describe("weight of the intrinsic reward (0 = off; paper: 0.4)"),
    beta: z.number().min(0).default(3).describe("episodic count exponent: bonus N_ep(m)^(−β)"),
    keyHexChars: z.number().int().min(16).max(64).default(32).describe("sha256 hex prefix length of an annotation key"),
    classificationThreshold: z.number().min(0).max(1).default(0.5).describe("τ in r_int = 1[p₁ > τ]"),
    ranking: z
      .object({
        normalise: z.boolean().default(false).describe("running mean/std normalisation of r_φ (public code: off)"),
        threshold: z.boolean().default(false).describe("apply r̂ · 1[r̂ > thresholdValue]"),
        thresholdValue: z.number().default(-0.5),
      })
      .strict()
      .prefault({}),
    judge: judge.prefault({}),
    parser: parser.prefault({}),
    annotator: annotator.prefault({}),
    schedule: schedule.prefault({}),
    labelBucketSuffix: z
      .string()
      .regex(/^[a-z0-9_]+$/)
      .default("oni_labels")
      .describe("KV bucket sluice_<exp>_<suffix>"),
  })
  .strict();

export type OniConfig = z.infer<typeof oniSchema>;
export type JudgeConfig = OniConfig["judge"];
export type ParserConfig = OniConfig["parser"];
export type AnnotatorConfig = OniConfig["annotator"];
export type ScheduleConfig = OniConfig["schedule"];
export type RankingConfig = OniConfig["ranking"];
