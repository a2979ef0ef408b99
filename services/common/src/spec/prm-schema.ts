import { z } from "zod";

/**
 * PRM step channel `prm`: an OpenAI-compatible judge scores each step of a trajectory (the
 * generative-PRM route, `source: judge`), or a discriminative reward model hosted by the engine
 * scores each step's text (`source: engine`).
 */
const DEFAULT_PROMPT =
  "You review one step of a software engineering agent.\n\nTask:\n{task}\n\nStep:\n{step}\n\n" +
  "Rate how much this step helps solve the task, from -1 (harmful) to 1 (clearly helpful). " +
  "End with 'Score: <number>'.";

const prmJudge = z
  .object({
    baseUrl: z
      .string()
      .url()
      .default("http://127.0.0.1:8000")
      .describe("OpenAI-compatible server root (no /v1); default http://127.0.0.1:8000"),
    api: z
      .enum(["chat", "completions"])
      .default("chat")
      .describe("/v1/chat/completions (one request per step) or /v1/completions (one batched request); default chat"),
    model: z.string().min(1).default("judge").describe("model name sent in each request; default judge"),
    temperature: z.number().min(0).default(0).describe("sampling temperature; default 0"),
    maxTokens: z.number().int().positive().default(256).describe("max tokens per answer; default 256"),
    prompt: z
      .string()
      .includes("{step}")
      .default(DEFAULT_PROMPT)
      .describe(
        "prompt template; {step} is the turn's observation and action, {task} the task statement; default asks for 'Score: <number>' in [-1, 1]",
      ),
    requestDeadlineMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe("deadline of one HTTP request; default 30000"),
    retries: z.number().int().min(0).default(1).describe("retries of a failed request; default 1"),
    backoffMs: z.number().int().min(0).default(250).describe("first retry delay, doubling per retry; default 250"),
    batchDeadlineMs: z
      .number()
      .int()
      .positive()
      .default(20_000)
      .describe(
        "deadline for scoring all turns of one trajectory (keep under the pipeline's 30 s ack wait); past it the channel takes its default; default 20000",
      ),
  })
  .strict();

const prmParser = z
  .object({
    pattern: z
      .string()
      .min(1)
      .default("Score:\\s*([-+]?\\d+(?:\\.\\d+)?)")
      .describe(
        "regex whose capture group 1 is the score (last match counts); default Score:\\s*([-+]?\\d+(?:\\.\\d+)?)",
      ),
    defaultScore: z
      .number()
      .default(0)
      .describe("score of an unparseable, out-of-range or failed answer (counted); default 0"),
  })
  .strict();

const prmEngine = z
  .object({
    model: z
      .string()
      .min(1)
      .max(128)
      .default("prm")
      .describe(
        "engine reward-model name; a regression model's score or a classification model's probability is the step score; default prm",
      ),
    loadPath: z
      .string()
      .default("")
      .describe(
        "a directory written by SaveRewardModel, loaded under `model` at startup when no model of that name exists; empty = the model must already exist in the engine; default empty",
      ),
    kind: z
      .enum(["regression", "classification"])
      .default("regression")
      .describe("kind of the model loaded from loadPath; default regression"),
    batchDeadlineMs: z
      .number()
      .int()
      .positive()
      .default(20_000)
      .describe("deadline of scoring all turns of one trajectory; past it the default score is used; default 20000"),
  })
  .strict();

export const prmSchema = z
  .object({
    enabled: z.boolean().default(false).describe("add the PRM step channel `prm`; default false"),
    source: z
      .enum(["judge", "engine"])
      .default("judge")
      .describe("generative PRM (OpenAI-compatible judge) or discriminative reward model in the engine; default judge"),
    engine: prmEngine.prefault({}).describe("the engine route (source: engine)"),
    judge: prmJudge.prefault({}),
    parser: prmParser.prefault({}),
    taskMetadataKey: z
      .string()
      .min(1)
      .default("problem_statement")
      .describe(
        "Trajectory.metadata key holding the task statement for {task} (empty when absent); default problem_statement",
      ),
    weight: z.number().default(1).describe("channel weight w_prm; default 1"),
    scoreRange: z
      .tuple([z.number(), z.number()])
      .default([-1, 1])
      .refine(([lo, hi]) => lo <= hi, "scoreRange must be [low, high] with low <= high")
      .describe("accepted step scores [low, high]; a parsed value outside is treated as unparseable; default [-1, 1]"),
  })
  .strict();

export type PrmConfig = z.infer<typeof prmSchema>;
