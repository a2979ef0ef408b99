import { z } from "zod";

/**
 * The final evaluation of a run: once the learner has published its last policy, the actors
 * sample `samplesPerTask` unguided attempts on each of `tasks` held-out tasks with it and
 * publish them on the experiment's eval subject (never trained on). `sluice up` writes them to
 * `<runDir>/eval-samples.jsonl` with pass@1 and pass@N in summary.json, and `sluice eval
 * --candidates` picks one per task with a test-time reward model (Agent-RLVR §3.4, arXiv
 * 2506.11425): N fresh samples per task from one policy, as best-of-N is meant.
 */
export const evaluationSchema = z
  .object({
    enabled: z.boolean().default(false).describe("evaluate the final policy on held-out tasks; default false"),
    tasks: z.number().int().min(1).max(100_000).default(32).describe("held-out tasks; default 32"),
    samplesPerTask: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(4)
      .describe("attempts per task (the N of best-of-N); default 4"),
    environment: z
      .object({
        name: z.string().min(1),
        config: z.record(z.string(), z.unknown()).default({}),
      })
      .strict()
      .optional()
      .describe(
        "where the tasks come from; default the training environment, drawing task indices training never draws (for a task-set environment such as swe, give a held-out task set here)",
      ),
    successThreshold: z
      .number()
      .default(1)
      .describe("an attempt passed when its outcome score is at least this (unit tests: 1 = resolved); default 1"),
    deadlineMs: z
      .number()
      .int()
      .positive()
      .default(600_000)
      .describe("how long sluice up waits for the evaluation after the last step; default 600000"),
  })
  .strict();

export type EvaluationConfig = z.infer<typeof evaluationSchema>;

/**
 * Evaluation task k is the environment's task at EVAL_TASK_OFFSET + k: far past any index a
 * run's admission hands out (steps · groupsPerStep plus refunds), so generated environments
 * give tasks training never drew.
 */
export const EVAL_TASK_OFFSET = 2 ** 30;
