import { randomBytes } from "node:crypto";
import {
  contracts,
  errorMessage,
  SWE_TOOL_SCHEMAS,
  taskToJson,
  ValidationError,
  type Logger,
  type SweTask,
} from "@sluice/common";
import type { ChatMessage, ToolSchema, WireToolCall } from "../../chat-types.js";
import type {
  Environment,
  EnvironmentAction,
  EpisodeOutcome,
  OutcomeLevelName,
  ResetResult,
  StepResult,
  ToolCallResult,
} from "../../environment.js";
import { EnvironmentInfraError } from "../../errors.js";
import type { SweConfig } from "./config.js";
import {
  firstUserMessage,
  NO_TOOL_CALL_MESSAGE,
  NOT_RUN_AFTER_SUBMIT,
  NOT_RUN_WALL_TIME,
  SWE_SYSTEM_PROMPT,
  unparsedToolCallMessage,
} from "./prompts.js";
import type { SweSandboxClient } from "./sandbox-client.js";

const { FailureKind, OutcomeLevel } = contracts;

/** Why a SWE episode ended (Trajectory.done_reason). */
export type SweDoneReason =
  "submitted" | "max_turns" | "wall_time" | "context_limit" | "format_errors" | "sandbox_error";

/** The RPCs the environment needs; SweSandboxClient in production. */
export type SweSandboxApi = Pick<
  SweSandboxClient,
  "createTaskSandbox" | "runTool" | "extractPatch" | "verify" | "destroySandbox"
>;

export interface SweEnvironmentOptions {
  task: SweTask;
  config: SweConfig;
  sandbox: SweSandboxApi;
  logger?: Logger;
  now?: () => number;
}

// Deadlines of the quick RPCs; the slow ones (create, verify, tools) come from the config.
const EXTRACT_PATCH_TIMEOUT_MS = 60_000;
const DESTROY_TIMEOUT_MS = 30_000;
// RunTool's deadline is the tool's own timeout plus room for the service's bookkeeping.
const TOOL_RPC_SLACK_MS = 30_000;
// When the config leaves the tool timeout to the service, we do not know it: bound the RPC anyway.
const TOOL_RPC_FALLBACK_MS = 600_000;

const LEVEL_NAMES: Partial<Record<contracts.OutcomeLevel, OutcomeLevelName>> = {
  [OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT]: "NO_SUBMIT",
  [OutcomeLevel.OUTCOME_LEVEL_EMPTY_PATCH]: "EMPTY_PATCH",
  [OutcomeLevel.OUTCOME_LEVEL_PATCH_APPLY_FAILED]: "PATCH_APPLY_FAILED",
  [OutcomeLevel.OUTCOME_LEVEL_TESTS_FAIL]: "TESTS_FAIL",
  [OutcomeLevel.OUTCOME_LEVEL_RESOLVED]: "RESOLVED",
};

/** The tool schemas as mutable wire objects (the shared ones are deeply readonly). */
export function sweToolSchemas(): ToolSchema[] {
  return SWE_TOOL_SCHEMAS.map((s) => ({
    type: "function",
    function: {
      name: s.function.name,
      description: s.function.description,
      parameters: JSON.parse(JSON.stringify(s.function.parameters)) as Record<string, unknown>,
    },
  }));
}

/**
 * One SWE episode: a task sandbox in the sandbox service, the agent's tool calls run in
 * it, and on submit (or a limit) the workspace diff graded by the service's verifier.
 * Sandbox RPC failures throw EnvironmentInfraError (SANDBOX_ERROR, or VERIFIER_ERROR for
 * grading), so the learner masks the episode instead of scoring it as a failure.
 */
export class SweEnvironment implements Environment {
  private readonly now: () => number;
  private readonly episodeId: string;
  private sandboxId: string | undefined;
  private phase: "new" | "running" | "done" = "new";
  private startedAtMs = 0;
  private turns = 0;
  private formatErrors = 0;
  private doneReason: SweDoneReason | undefined;
  private graded: EpisodeOutcome | undefined;
  private lastError = "";

  constructor(private readonly o: SweEnvironmentOptions) {
    this.now = o.now ?? Date.now;
    // Names the sandbox in the service's logs; unique per episode.
    this.episodeId = `${o.task.instance_id}-${randomBytes(4).toString("hex")}`;
  }

  async reset(): Promise<ResetResult> {
    if (this.phase !== "new") throw new ValidationError("swe: reset called twice");
    this.phase = "running";
    this.startedAtMs = this.now();
    const res = await this.rpc("CreateTaskSandbox", () =>
      this.o.sandbox.createTaskSandbox(
        { taskJson: taskToJson(this.o.task), episodeId: this.episodeId, limits: undefined },
        this.o.config.createTimeoutMs,
      ),
    );
    this.sandboxId = res.sandboxId;
    return {
      messages: [
        { role: "system", content: SWE_SYSTEM_PROMPT },
        { role: "user", content: firstUserMessage(this.o.task) },
      ],
      tools: sweToolSchemas(),
    };
  }

  async step(action: EnvironmentAction): Promise<StepResult> {
    if (this.phase === "new") throw new ValidationError("swe: step before reset");
    if (this.phase === "done") throw new ValidationError("swe: step after the episode is done");
    this.turns++;
    const messages: ChatMessage[] = [];
    const toolResults: ToolCallResult[] = [];
    let validCalls = 0;
    let submitted = false;
    let outOfTime = false;
    for (const call of action.toolCalls) {
      outOfTime ||= this.wallTimeExceeded();
      if (submitted || outOfTime) {
        const why = submitted ? NOT_RUN_AFTER_SUBMIT : NOT_RUN_WALL_TIME;
        messages.push({ role: "tool", tool_call_id: call.id, content: why });
        toolResults.push(notRun(why));
        continue;
      }
      const res = await this.runTool(call);
      messages.push({ role: "tool", tool_call_id: call.id, content: res.observation });
      toolResults.push({
        valid: !res.invalid,
        error: res.invalid ? res.invalidReason || "invalid tool call" : "",
        exitCode: res.exitCode,
        outputTruncated: res.outputTruncated,
        elapsedMs: res.elapsedMs,
      });
      if (!res.invalid) validCalls++;
      submitted ||= res.submitted;
    }
    const unparsed = action.invalidToolCalls ?? [];
    if (unparsed.length > 0) {
      messages.push({ role: "user", content: unparsedToolCallMessage(unparsed.map((u) => u.error)) });
    } else if (action.toolCalls.length === 0) {
      messages.push({ role: "user", content: NO_TOOL_CALL_MESSAGE });
    }
    // A turn that achieved no valid tool call is a format error; any valid one resets the run.
    this.formatErrors = validCalls > 0 ? 0 : this.formatErrors + 1;

    const reason = this.doneReasonAfter(submitted, action, outOfTime);
    if (reason === undefined) return { messages, done: false, toolResults };
    await this.conclude(reason);
    return { messages, done: true, toolResults };
  }

  /**
   * The runner stopped first (it calls this only when rollout.maxTurns is below our
   * maxTurns): grade exactly as our own max_turns would.
   */
  async finish(_reason: string): Promise<void> {
    if (this.phase !== "running") return;
    await this.conclude("max_turns");
  }

  outcome(): EpisodeOutcome {
    if (this.graded) return this.graded;
    const detail = this.doneReason
      ? `ended by ${this.doneReason} after ${this.turns} turns${this.lastError ? `: ${this.lastError}` : ""}`
      : `not finished after ${this.turns} turns`;
    return {
      level: "NO_SUBMIT",
      score: 0,
      submitted: false,
      modified: false,
      detail,
      ...(this.doneReason ? { doneReason: this.doneReason } : {}),
    };
  }

  async close(): Promise<void> {
    this.phase = "done";
    const sandboxId = this.sandboxId;
    if (sandboxId === undefined) return;
    this.sandboxId = undefined;
    await this.o.sandbox.destroySandbox({ sandboxId }, DESTROY_TIMEOUT_MS);
  }

  private doneReasonAfter(
    submitted: boolean,
    action: EnvironmentAction,
    outOfTime: boolean,
  ): SweDoneReason | undefined {
    const { config } = this.o;
    if (submitted) return "submitted";
    if (outOfTime || this.wallTimeExceeded()) return "wall_time";
    if (this.formatErrors >= config.maxFormatErrors) return "format_errors";
    const used = action.usage ? action.usage.promptTokens + action.usage.completionTokens : 0;
    if (used >= config.maxContextTokens) return "context_limit";
    if (this.turns >= config.maxTurns) return "max_turns";
    return undefined;
  }

  private wallTimeExceeded(): boolean {
    return this.now() - this.startedAtMs >= this.o.config.wallTimeMs;
  }

  private runTool(call: WireToolCall): Promise<contracts.RunToolResponse> {
    const { toolTimeoutMs, maxObservationBytes } = this.o.config;
    const deadline = (toolTimeoutMs ?? TOOL_RPC_FALLBACK_MS) + TOOL_RPC_SLACK_MS;
    return this.rpc(`RunTool(${call.function.name})`, () =>
      this.o.sandbox.runTool(
        {
          sandboxId: this.requireSandbox(),
          toolName: call.function.name,
          argumentsJson: call.function.arguments,
          timeoutMs: toolTimeoutMs ?? 0,
          maxObservationBytes: maxObservationBytes ?? 0,
        },
        deadline,
      ),
    );
  }

  /**
   * Ends the episode: the workspace diff is graded. A limit with a non-empty diff is an
   * automatic submission (graded like one, report.auto_submitted); an empty one is NO_SUBMIT.
   */
  private async conclude(reason: SweDoneReason): Promise<void> {
    this.phase = "done";
    this.doneReason = reason;
    const sandboxId = this.requireSandbox();
    const extracted = await this.rpc("ExtractPatch", () =>
      this.o.sandbox.extractPatch({ sandboxId, maxBytes: 0 }, EXTRACT_PATCH_TIMEOUT_MS),
    );
    if (extracted.tooLarge) {
      // The agent's diff is ungradeable (e.g. it wrote a huge file): its fault, not infrastructure's.
      const report = { patch_too_large: true, size_bytes: extracted.sizeBytes, done_reason: reason };
      this.graded = {
        level: "PATCH_APPLY_FAILED",
        score: 0,
        submitted: reason === "submitted",
        modified: true,
        detail: `${reason}: patch of ${extracted.sizeBytes} bytes exceeds the service's limit`,
        doneReason: reason,
        verifierReportJson: JSON.stringify(report),
      };
      return;
    }
    const patch = extracted.patch;
    const modified = patch.trim() !== "";
    const autoSubmitted = reason !== "submitted" && modified;
    const submitted = reason === "submitted" || autoSubmitted;
    let res: contracts.VerifyResponse;
    try {
      res = await this.o.sandbox.verify(
        { taskJson: taskToJson(this.o.task), patch, submitted, episodeId: this.episodeId },
        this.o.config.verifyTimeoutMs,
      );
    } catch (err) {
      this.lastError = `Verify: ${errorMessage(err)}`;
      throw new EnvironmentInfraError(FailureKind.FAILURE_KIND_VERIFIER_ERROR, this.describe(this.lastError), {
        cause: err,
      });
    }
    const level = LEVEL_NAMES[res.level];
    const verifierReportJson = annotateReport(res.reportJson, { auto_submitted: autoSubmitted, done_reason: reason });
    const graded: EpisodeOutcome = {
      level: level ?? "NO_SUBMIT",
      score: res.resolved ? 1 : 0,
      submitted,
      modified,
      detail: `${reason}: ${level ?? "no level"}${autoSubmitted ? " (auto-submitted)" : ""}, patch ${Buffer.byteLength(patch)} bytes`,
      doneReason: reason,
      verifierReportJson,
    };
    if (res.infrastructureError || level === undefined) {
      // Keep the report for diagnosis, but the score must not count: the runner masks it.
      this.graded = { ...graded, level: "NO_SUBMIT", score: 0, detail: `${reason}: verifier error: ${res.error}` };
      throw new EnvironmentInfraError(
        FailureKind.FAILURE_KIND_VERIFIER_ERROR,
        this.describe(`Verify: ${res.error || `no outcome level (${res.level})`}`),
      );
    }
    this.graded = graded;
  }

  private requireSandbox(): string {
    if (this.sandboxId === undefined) throw new ValidationError("swe: no task sandbox (reset failed or not called)");
    return this.sandboxId;
  }

  /** Runs a sandbox RPC; a failure ends the episode as sandbox_error (masked by the learner). */
  private async rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      this.phase = "done";
      this.doneReason = "sandbox_error";
      this.lastError = `${what}: ${errorMessage(err)}`;
      this.o.logger?.warn("sandbox rpc failed", { instanceId: this.o.task.instance_id, what, err: errorMessage(err) });
      throw new EnvironmentInfraError(FailureKind.FAILURE_KIND_SANDBOX_ERROR, this.describe(this.lastError), {
        cause: err,
      });
    }
  }

  private describe(message: string): string {
    return `swe ${this.o.task.instance_id} (episode ${this.episodeId}): ${message}`;
  }
}

function notRun(why: string): ToolCallResult {
  return { valid: false, error: why, exitCode: 0, outputTruncated: false, elapsedMs: 0 };
}

/** Adds Sluice's episode fields to the verifier's report object (kept verbatim if it is not one). */
function annotateReport(reportJson: string, extra: Record<string, unknown>): string {
  try {
    const report: unknown = JSON.parse(reportJson);
    if (typeof report === "object" && report !== null && !Array.isArray(report)) {
      return JSON.stringify({ ...report, ...extra });
    }
  } catch {
    // Not JSON: wrap below.
  }
  return JSON.stringify({ raw_report: reportJson, ...extra });
}
