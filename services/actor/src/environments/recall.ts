import { z } from "zod";
import { ValidationError, mixSeed, mulberry32 } from "@sluice/common";
import type { ChatMessage } from "../chat-types.js";
import type {
  BoundEnvironment,
  EnvironmentAction,
  EnvironmentDefinition,
  Environment,
  EpisodeOutcome,
  ResetResult,
  StepResult,
  Task,
  TaskSource,
} from "../environment.js";
import { parseEnvironmentConfig } from "./config.js";
import { scoreDigitAnswer } from "./digits.js";

/**
 * "recall": the toy for Agent-RLVR guidance. Each task is a label (two letters) with a hidden
 * code of `turns` digits; the agent answers one digit per turn. The prompt says nothing about
 * the code, so an unguided attempt can only guess it (or memorise it, across `tasks` labels),
 * while the verifier's feedback on a failed attempt ("expected 471") is exactly what a
 * re-attempt needs: the environment where guidance is usable by a tiny model, as a failing
 * test's assertion message is for an LLM on a repository. `digits` is the opposite case: its
 * answer follows from the prompt, and feedback adds little.
 *
 * A share `open_book` of the tasks show the code in the prompt ("ab\nexpected 471"), in the
 * words the feedback uses: there the tiny model learns to read a code from its context, the
 * skill a pretrained LLM brings to a failing test's message. Closed-book tasks are then solved
 * by memorising the code or, on a guided re-attempt, by reading the feedback.
 */
export const RECALL_ENVIRONMENT = "recall";

export const RECALL_SYSTEM_PROMPT = "recall the code";
/** What the user says after each answer: nothing about the next digit. */
export const RECALL_NEXT = "+";
const LETTERS = "abcdefghijklmnopqrstuvwxyz";

export const recallConfigSchema = z
  .object({
    turns: z.number().int().min(1).max(16).default(3),
    /** Distinct labels (each with its own code); at most 26² so a label is two letters. */
    tasks: z
      .number()
      .int()
      .min(1)
      .max(LETTERS.length ** 2)
      .default(256),
    format_credit: z.number().min(0).max(1).default(0.1),
    /** Share of tasks whose prompt shows the code (drawn per task). */
    open_book: z.number().min(0).max(1).default(0.5),
  })
  .strict();

export type RecallConfig = z.infer<typeof recallConfigSchema>;

export interface RecallTaskPayload {
  label: string;
  code: string;
  /** The prompt shows the code. */
  open: boolean;
}

export function parseRecallConfig(raw: unknown): RecallConfig {
  return parseEnvironmentConfig(RECALL_ENVIRONMENT, recallConfigSchema, raw);
}

/** Label k of the set: two letters ("aa", "ab", …). */
export function recallLabel(k: number): string {
  return LETTERS.charAt(Math.floor(k / LETTERS.length)) + LETTERS.charAt(k % LETTERS.length);
}

/** The hidden code of label k: `turns` digits fixed by the seed. */
export function recallCode(seed: number, k: number, turns: number): string {
  const rand = mulberry32(mixSeed(seed, 1_000_003 + k));
  return Array.from({ length: turns }, () => String(Math.floor(rand() * 10))).join("");
}

/** How a code is shown: in an open-book prompt and in the feedback on a failed attempt alike. */
export function recallHint(code: string): string {
  return `expected ${code}`;
}

export class RecallTaskSource implements TaskSource {
  private cursor = 0;
  constructor(
    private readonly seed: number,
    private readonly config: RecallConfig,
  ) {}

  at(index: number): Task {
    const rand = mulberry32(mixSeed(this.seed, index));
    const k = Math.floor(rand() * this.config.tasks);
    const payload: RecallTaskPayload = {
      label: recallLabel(k),
      code: recallCode(this.seed, k, this.config.turns),
      open: rand() < this.config.open_book,
    };
    return { id: `recall-${this.seed}-${index}`, payload };
  }

  next(): Task {
    return this.at(this.cursor++);
  }
}

export class RecallEnvironment implements Environment {
  private readonly credits: number[] = [];
  private readonly answers: string[] = [];
  private started = false;

  constructor(
    private readonly label: string,
    private readonly code: string,
    private readonly open: boolean,
    private readonly config: RecallConfig,
  ) {}

  static fromTask(task: Task, config: RecallConfig): RecallEnvironment {
    const p = task.payload as Partial<RecallTaskPayload> | null;
    if (typeof p?.label !== "string" || !/^[a-z]{2}$/.test(p.label)) {
      throw new ValidationError(`recall task ${task.id}: payload.label must be two lowercase letters`);
    }
    if (typeof p.code !== "string" || !new RegExp(`^[0-9]{${config.turns}}$`).test(p.code)) {
      throw new ValidationError(`recall task ${task.id}: payload.code must be ${config.turns} digits`);
    }
    if (typeof p.open !== "boolean")
      throw new ValidationError(`recall task ${task.id}: payload.open must be a boolean`);
    return new RecallEnvironment(p.label, p.code, p.open, config);
  }

  async reset(): Promise<ResetResult> {
    this.started = true;
    this.credits.length = 0;
    this.answers.length = 0;
    const messages: ChatMessage[] = [
      { role: "system", content: RECALL_SYSTEM_PROMPT },
      { role: "user", content: this.open ? `${this.label}\n${recallHint(this.code)}` : this.label },
    ];
    return { messages };
  }

  async step(action: EnvironmentAction): Promise<StepResult> {
    if (!this.started) throw new ValidationError("recall: step before reset");
    if (this.credits.length >= this.config.turns) throw new ValidationError("recall: step after the episode is done");
    const expected = Number(this.code.charAt(this.credits.length));
    this.credits.push(scoreDigitAnswer(action.content, expected, this.config.format_credit));
    this.answers.push((action.content ?? "").trimStart().charAt(0) || "_");
    if (this.credits.length >= this.config.turns) return { messages: [], done: true };
    return { messages: [{ role: "user", content: RECALL_NEXT }], done: false };
  }

  outcome(): EpisodeOutcome {
    const turns = this.config.turns;
    const correct = this.credits.filter((c) => c === 1).length;
    const finished = this.credits.length >= turns;
    return {
      level: !finished ? "NO_SUBMIT" : correct === turns ? "RESOLVED" : "TESTS_FAIL",
      score: this.credits.reduce((a, b) => a + b, 0) / turns,
      submitted: finished,
      modified: this.answers.some((a) => /^[0-9]$/.test(a)),
      // A test's assertion message, kept short: the expected code is what a re-attempt can use.
      detail: `got ${this.answers.join("")}, ${recallHint(this.code)}`,
      perTurnScores: this.credits.map((c) => c / turns),
    };
  }

  async close(): Promise<void> {}
}

export const recallEnvironment: EnvironmentDefinition = {
  name: RECALL_ENVIRONMENT,
  bind(rawConfig: unknown, seed: number): BoundEnvironment {
    const config = parseRecallConfig(rawConfig);
    return {
      name: RECALL_ENVIRONMENT,
      taskSource: new RecallTaskSource(seed, config),
      create: (task) => RecallEnvironment.fromTask(task, config),
    };
  },
};
