import type { ChatMessage, InvalidToolCall, ToolSchema, WireToolCall } from "./chat-types.js";

/** One unit of work: what an episode is about. `payload` is environment-specific. */
export interface Task {
  id: string;
  payload: unknown;
}

/**
 * Deterministic task stream derived from the experiment seed. `at(i)` is the i-th task
 * of the run; the actor asks for the task of the global group ordinal so a run's task
 * sequence does not depend on which actor admitted which group.
 */
export interface TaskSource {
  next(): Task;
  at(index: number): Task;
}

export type OutcomeLevelName = "NO_SUBMIT" | "EMPTY_PATCH" | "PATCH_APPLY_FAILED" | "TESTS_FAIL" | "RESOLVED";

export interface EpisodeOutcome {
  level: OutcomeLevelName;
  /** The environment's own scalar (e.g. fraction of answers correct). */
  score: number;
  submitted: boolean;
  modified: boolean;
  detail: string;
  /** Optional per-turn credit, aligned with the policy turns taken. */
  perTurnScores?: number[];
}

export interface EnvironmentAction {
  content: string | null;
  toolCalls: WireToolCall[];
  /** Tool calls the gateway could not parse, so the environment can say so. */
  invalidToolCalls?: InvalidToolCall[];
}

export interface ResetResult {
  messages: ChatMessage[];
  tools?: ToolSchema[];
}

export interface StepResult {
  /** Messages the environment adds after the action (user / tool replies). */
  messages: ChatMessage[];
  done: boolean;
}

/** One episode's world. Created per episode from a task; `close` frees its resources. */
export interface Environment {
  reset(): Promise<ResetResult>;
  step(action: EnvironmentAction): Promise<StepResult>;
  /** Valid at any point: an episode cut short reports what it has so far. */
  outcome(): EpisodeOutcome;
  close(): Promise<void>;
}

/** An environment with its config validated and its seed fixed. */
export interface BoundEnvironment {
  name: string;
  taskSource: TaskSource;
  create(task: Task): Environment;
}

/** What a registry holds: validates raw `spec.environment.config`, then binds. */
export interface EnvironmentDefinition {
  name: string;
  bind(rawConfig: unknown, seed: number): BoundEnvironment;
}
