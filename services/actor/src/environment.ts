import type { Logger } from "@sluice/common";
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
  /** Why the episode ended (e.g. submitted, max_turns); empty when the environment has none. */
  doneReason?: string;
  /** SWE-bench-shaped verifier report as JSON, when the environment grades with a verifier. */
  verifierReportJson?: string;
}

/** Token counts of the completion that produced an action (OpenAI `usage`). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface EnvironmentAction {
  content: string | null;
  toolCalls: WireToolCall[];
  /** Tool calls the gateway could not parse, so the environment can say so. */
  invalidToolCalls?: InvalidToolCall[];
  /** Absent when the gateway did not report usage. */
  usage?: TokenUsage;
}

export interface ResetResult {
  messages: ChatMessage[];
  tools?: ToolSchema[];
}

/** How the environment ran one of the action's tool calls (Trajectory ToolCall fields). */
export interface ToolCallResult {
  /** False when the environment refused the call (unknown tool, bad arguments). */
  valid: boolean;
  error: string;
  exitCode: number;
  outputTruncated: boolean;
  elapsedMs: number;
}

export interface StepResult {
  /** Messages the environment adds after the action (user / tool replies). */
  messages: ChatMessage[];
  done: boolean;
  /** One per `action.toolCalls` entry, same order; absent for environments without tools. */
  toolResults?: ToolCallResult[];
}

/** One episode's world. Created per episode from a task; `close` frees its resources. */
export interface Environment {
  reset(): Promise<ResetResult>;
  step(action: EnvironmentAction): Promise<StepResult>;
  /**
   * The runner stopped before `step` said done (its own turn budget ran out): grade what
   * there is. Optional: environments without a verifier report their outcome as is.
   */
  finish?(reason: string): Promise<void>;
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

/** What the process running episodes knows beyond the config: where services are. */
export interface EnvironmentContext {
  logger?: Logger;
  /** gRPC address (host:port) of the sandbox service, from the runtime config. */
  sandboxAddress?: string;
}

/** What a registry holds: validates raw `spec.environment.config`, then binds. */
export interface EnvironmentDefinition {
  name: string;
  bind(rawConfig: unknown, seed: number, context?: EnvironmentContext): BoundEnvironment;
}
