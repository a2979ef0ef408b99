import { z } from "zod";

/**
 * Agent-RLVR guidance (Da et al., Scale AI, arXiv 2506.11425): failed attempts get guidance
 * (environment feedback, plan hints, interaction hints) and are re-attempted with it in
 * context; the learner trains on the guided re-attempts. The paper leaves the trigger, the
 * number of rounds, the training context and the update open, so they are configuration.
 */
const DEFAULT_TEACHER_PROMPT =
  "You are helping a software engineering agent that failed a task.\n\nTask:\n{task}\n\n" +
  "What went wrong:\n{feedback}\n\nIn at most five sentences, say which files and functions to change " +
  "and the strategy to follow. Do not write the patch.";

const DEFAULT_INTERACTION_HINT =
  "Hints on working in this repository: the code is in /workspace (a git repository). " +
  "Run the tests with `{test_cmd}`. Look at the files the failing tests exercise before editing, " +
  "and submit once the tests pass.";

const environmentFeedback = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        "show the failing tests, their assertion messages and error output from the verifier report; default true",
      ),
    maxChars: z
      .number()
      .int()
      .positive()
      .default(2_000)
      .describe("budget of the feedback text; longer feedback keeps its head; default 2000"),
    maxTests: z.number().int().positive().default(8).describe("failing tests listed at most; default 8"),
    template: z
      .string()
      .min(1)
      .refine((t) => t.includes("{feedback}") || t.includes("{detail}"), "must contain {feedback} or {detail}")
      .default("Feedback on your previous attempt:\n{feedback}")
      .describe(
        "the guidance message; {feedback} is the failing tests and their messages (or 'Your previous attempt failed: <detail>' without a verifier report), {detail} the outcome detail alone; default 'Feedback on your previous attempt:\\n{feedback}'",
      ),
  })
  .strict();

const teacher = z
  .object({
    baseUrl: z
      .string()
      .url()
      .default("http://127.0.0.1:8000")
      .describe("OpenAI-compatible server root (no /v1); default http://127.0.0.1:8000"),
    model: z.string().min(1).default("teacher").describe("model name sent in each request; default teacher"),
    prompt: z
      .string()
      .includes("{task}")
      .default(DEFAULT_TEACHER_PROMPT)
      .describe(
        "prompt template; {task} is the task statement, {feedback} the environment feedback; default asks for a plan",
      ),
    temperature: z.number().min(0).default(0).describe("sampling temperature; default 0"),
    maxTokens: z.number().int().positive().default(256).describe("max tokens of the hint; default 256"),
    requestDeadlineMs: z.number().int().positive().default(30_000).describe("deadline of one request; default 30000"),
  })
  .strict();

const planHints = z
  .object({
    enabled: z.boolean().default(false).describe("show a plan hint; default false"),
    source: z
      .enum(["task_metadata", "teacher"])
      .default("task_metadata")
      .describe(
        "task_metadata: the files the gold patch touches (the task's `patch`); teacher: a teacher model through an OpenAI-compatible endpoint; default task_metadata",
      ),
    teacher: teacher.prefault({}),
    maxChars: z.number().int().positive().default(1_000).describe("budget of the hint text; default 1000"),
  })
  .strict();

const interactionHints = z
  .object({
    enabled: z.boolean().default(false).describe("show how to run the tests and where things are; default false"),
    text: z
      .string()
      .min(1)
      .default(DEFAULT_INTERACTION_HINT)
      .describe("hint template; {test_cmd} is the task's test command (or `npm test`); default a short SWE hint"),
  })
  .strict();

export const guidanceSchema = z
  .object({
    enabled: z.boolean().default(false).describe("run Agent-RLVR guided re-attempts; default false"),
    trigger: z
      .enum(["on_fail", "all_group_fail"])
      .default("on_fail")
      .describe(
        "on_fail: every failed attempt gets a guided re-attempt; all_group_fail: only when all G attempts of a group failed (the Guide paper's choice); default on_fail",
      ),
    maxRounds: z
      .number()
      .int()
      .min(1)
      .max(4)
      .default(1)
      .describe(
        "guidance rounds per attempt: a guided re-attempt that fails again is guided again up to this; default 1",
      ),
    successThreshold: z
      .number()
      .default(1)
      .describe("an attempt passed when its outcome score is at least this (unit tests: 1 = resolved); default 1"),
    environmentFeedback: environmentFeedback.prefault({}),
    planHints: planHints.prefault({}),
    interactionHints: interactionHints.prefault({}),
    context: z
      .enum(["keep", "strip", "strip_with_is"])
      .default("strip")
      .describe(
        "what the learner trains a guided re-attempt on: keep (the guided prompt); strip (guidance removed, logprobs recomputed by the engine on the stripped context); strip_with_is (unguided context, ratio π_θ(y|x)/π_old(y|x,g) with π_old recomputed on the guided context); default strip",
      ),
    update: z
      .enum(["policy_gradient", "dpo"])
      .default("policy_gradient")
      .describe(
        "policy_gradient: guided re-attempts join their task's group for the configured advantage and loss; dpo: DPO on (guided success, failed attempt) pairs of the same task with π_ref the frozen reference model (algorithm.klCoef > 0) or else the weights at the start of the step; steps without pairs fall back to policy gradient; default policy_gradient",
      ),
    dpoBeta: z.number().positive().default(0.1).describe("β of the DPO loss; default 0.1"),
  })
  .strict()
  .refine((g) => !g.enabled || g.environmentFeedback.enabled || g.planHints.enabled || g.interactionHints.enabled, {
    message: "guidance.enabled needs at least one guidance kind enabled",
    path: ["enabled"],
  });

export type GuidanceConfig = z.infer<typeof guidanceSchema>;
