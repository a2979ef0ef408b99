import { z } from "zod";
import { ValidationError } from "@sluice/common";
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
import { mixSeed, mulberry32 } from "@sluice/common";
import { parseEnvironmentConfig } from "./config.js";

/**
 * "digits": a multi-turn counting task a tiny random char-level LM can learn from
 * scratch with GRPO on CPU (in the spirit of verl's digit-completion check). The user
 * shows a digit, the agent answers with the next one (mod 10), the user shows the
 * correct next digit (so one mistake does not cascade), for `turns` answers.
 */
export const DIGITS_ENVIRONMENT = "digits";

// Kept short: every character is a token the tiny model attends over.
export const DIGITS_SYSTEM_PROMPT = "count up by one";

export const digitsConfigSchema = z
  .object({
    turns: z.number().int().min(1).max(64).default(3),
    format_credit: z.number().min(0).max(1).default(0.1),
  })
  .strict();

export type DigitsConfig = z.infer<typeof digitsConfigSchema>;

export interface DigitsTaskPayload {
  start: number;
}

export function parseDigitsConfig(raw: unknown): DigitsConfig {
  return parseEnvironmentConfig(DIGITS_ENVIRONMENT, digitsConfigSchema, raw);
}

export class DigitsTaskSource implements TaskSource {
  private cursor = 0;
  constructor(private readonly seed: number) {}

  at(index: number): Task {
    const start = Math.floor(mulberry32(mixSeed(this.seed, index))() * 10);
    const payload: DigitsTaskPayload = { start };
    return { id: `digits-${this.seed}-${index}`, payload };
  }

  next(): Task {
    return this.at(this.cursor++);
  }
}

/** Credit of one answer: 1 if right, `formatCredit` for a wrong digit, else 0. */
export function scoreDigitAnswer(content: string | null, expected: number, formatCredit: number): number {
  const first = (content ?? "").trimStart().charAt(0);
  if (first === String(expected)) return 1;
  return /^[0-9]$/.test(first) ? formatCredit : 0;
}

export class DigitsEnvironment implements Environment {
  private last: number;
  private readonly credits: number[] = [];
  private readonly answers: string[] = [];
  private started = false;

  constructor(
    private readonly start: number,
    private readonly config: DigitsConfig,
  ) {
    this.last = start;
  }

  static fromTask(task: Task, config: DigitsConfig): DigitsEnvironment {
    const payload = task.payload as Partial<DigitsTaskPayload> | null;
    const start = payload?.start;
    if (typeof start !== "number" || !Number.isInteger(start) || start < 0 || start > 9) {
      throw new ValidationError(`digits task ${task.id}: payload.start must be a digit 0..9`);
    }
    return new DigitsEnvironment(start, config);
  }

  async reset(): Promise<ResetResult> {
    this.started = true;
    this.last = this.start;
    this.credits.length = 0;
    this.answers.length = 0;
    const messages: ChatMessage[] = [
      { role: "system", content: DIGITS_SYSTEM_PROMPT },
      { role: "user", content: String(this.start) },
    ];
    return { messages };
  }

  async step(action: EnvironmentAction): Promise<StepResult> {
    if (!this.started) throw new ValidationError("digits: step before reset");
    if (this.credits.length >= this.config.turns) throw new ValidationError("digits: step after the episode is done");
    const expected = (this.last + 1) % 10;
    this.credits.push(scoreDigitAnswer(action.content, expected, this.config.format_credit));
    this.answers.push((action.content ?? "").trimStart().charAt(0));
    this.last = expected;
    if (this.credits.length >= this.config.turns) return { messages: [], done: true };
    return { messages: [{ role: "user", content: String(expected) }], done: false };
  }

  outcome(): EpisodeOutcome {
    const turns = this.config.turns;
    const correct = this.credits.filter((c) => c === 1).length;
    const finished = this.credits.length >= turns;
    const score = this.credits.reduce((a, b) => a + b, 0) / turns;
    const level = !finished ? "NO_SUBMIT" : correct === turns ? "RESOLVED" : "TESTS_FAIL";
    return {
      level,
      score,
      submitted: finished,
      modified: this.answers.some((a) => /^[0-9]$/.test(a)),
      // Like a unit test's "expected … got …": what guidance's environment feedback can show.
      detail: `${correct}/${turns} correct, answered ${this.credits.length}/${turns}, answers ${JSON.stringify(this.answers)}, expected ${JSON.stringify(this.expectedAnswers())}`,
      // Scaled so the turns sum to the episode score.
      perTurnScores: this.credits.map((c) => c / turns),
    };
  }

  private expectedAnswers(): string[] {
    return Array.from({ length: this.config.turns }, (_, i) => String((this.start + i + 1) % 10));
  }

  async close(): Promise<void> {}
}

export const digitsEnvironment: EnvironmentDefinition = {
  name: DIGITS_ENVIRONMENT,
  bind(rawConfig: unknown, seed: number): BoundEnvironment {
    const config = parseDigitsConfig(rawConfig);
    return {
      name: DIGITS_ENVIRONMENT,
      taskSource: new DigitsTaskSource(seed),
      create: (task) => DigitsEnvironment.fromTask(task, config),
    };
  },
};
