import { contracts, ValidationError, parseTaskText, type Logger, type SweTask } from "@sluice/common";
import type { Registry } from "prom-client";
import type { SandboxBackend } from "./backend.js";
import { createTaskSandbox } from "./environments/task-sandbox.js";
import { SandboxNotFoundError } from "./errors.js";
import { SweMetrics } from "./swe-metrics.js";
import { extractPatch, ToolRunner } from "./tools/index.js";
import { Verifier } from "./verifier.js";
import { reportFailureMessages } from "./grading/failure-messages.js";

export interface SweServiceOptions {
  cacheDir: string;
  /** Relative env.lockfile paths resolve against this. */
  tasksDir: string;
  toolTimeoutMs: number;
  maxObservationBytes: number;
  maxPatchBytes: number;
}

interface TaskSandboxRecord {
  instanceId: string;
  baseCommit: string;
}

const { OutcomeLevel } = contracts;
const LEVELS: Record<string, contracts.OutcomeLevel> = {
  NO_SUBMIT: OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT,
  EMPTY_PATCH: OutcomeLevel.OUTCOME_LEVEL_EMPTY_PATCH,
  PATCH_APPLY_FAILED: OutcomeLevel.OUTCOME_LEVEL_PATCH_APPLY_FAILED,
  TESTS_FAIL: OutcomeLevel.OUTCOME_LEVEL_TESTS_FAIL,
  RESOLVED: OutcomeLevel.OUTCOME_LEVEL_RESOLVED,
};

/**
 * The SWE side of the sandbox service: task sandboxes, agent tools, patch extraction and
 * verification. Task sandboxes are ordinary backend sandboxes plus the base commit their
 * patch is taken against.
 */
export class SweHandlers {
  private readonly tasks = new Map<string, TaskSandboxRecord>();
  private readonly tools: ToolRunner;
  private readonly verifier: Verifier;
  private readonly metrics: SweMetrics;

  constructor(
    private readonly backend: SandboxBackend,
    private readonly options: SweServiceOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.tools = new ToolRunner(backend, {
      defaultTimeoutMs: options.toolTimeoutMs,
      maxObservationBytes: options.maxObservationBytes,
    });
    this.verifier = new Verifier({ backend, cacheDir: options.cacheDir, logger, taskDir: options.tasksDir });
    this.metrics = new SweMetrics(registry);
  }

  async createTaskSandbox(req: contracts.CreateTaskSandboxRequest): Promise<contracts.CreateTaskSandboxResponse> {
    const started = performance.now();
    const task = parseTaskJson(req.taskJson);
    const sb = await createTaskSandbox(this.backend, task, {
      cacheDir: this.options.cacheDir,
      taskDir: this.options.tasksDir,
      logger: this.logger,
      episodeId: req.episodeId,
      ...(req.limits ? { limits: req.limits } : {}),
    });
    this.tasks.set(sb.sandboxId, { instanceId: task.instance_id, baseCommit: sb.baseCommit });
    this.metrics.taskSandboxCreated(performance.now() - started);
    if (task.base_commit && task.base_commit !== sb.baseCommit) {
      // Not fatal (grading uses the rebuilt commit), but the task and its env drifted apart.
      this.logger.warn("task base_commit differs from the rebuilt workspace", {
        instanceId: task.instance_id,
        expected: task.base_commit,
        got: sb.baseCommit,
      });
    }
    return {
      sandboxId: sb.sandboxId,
      workspacePath: sb.workspacePath,
      enforced: [...sb.enforced],
      baseCommit: sb.baseCommit,
      environmentHash: sb.envHash,
    };
  }

  async runTool(req: contracts.RunToolRequest): Promise<contracts.RunToolResponse> {
    const res = await this.tools.run(req.sandboxId, req.toolName, req.argumentsJson, {
      ...(req.timeoutMs > 0 ? { timeoutMs: req.timeoutMs } : {}),
      ...(req.maxObservationBytes > 0 ? { maxObservationBytes: req.maxObservationBytes } : {}),
    });
    const result = res.invalid
      ? "invalid"
      : res.submitted
        ? "submit"
        : res.timedOut
          ? "timeout"
          : res.exitCode === 0
            ? "ok"
            : "nonzero";
    this.metrics.toolCall(req.toolName, result, res.elapsedMs);
    return res;
  }

  async extractPatch(req: contracts.ExtractPatchRequest): Promise<contracts.ExtractPatchResponse> {
    const rec = this.tasks.get(req.sandboxId);
    if (!rec) throw new SandboxNotFoundError(req.sandboxId);
    return extractPatch(this.backend, req.sandboxId, {
      baseCommit: rec.baseCommit,
      maxBytes: req.maxBytes > 0 ? Math.min(req.maxBytes, this.options.maxPatchBytes) : this.options.maxPatchBytes,
    });
  }

  async verify(req: contracts.VerifyRequest): Promise<contracts.VerifyResponse> {
    const task = parseTaskJson(req.taskJson);
    const res = await this.verifier.verify({
      task,
      patch: req.patch,
      submitted: req.submitted,
      episodeId: req.episodeId,
    });
    this.metrics.verified(res.infrastructureError ? "INFRASTRUCTURE_ERROR" : res.level, res.durationMs);
    return {
      level: LEVELS[res.level] ?? OutcomeLevel.OUTCOME_LEVEL_UNSPECIFIED,
      reportJson: JSON.stringify({
        ...res.report,
        failure_messages: reportFailureMessages(res.report, res.testRun?.failureMessages),
      }),
      resolved: res.resolved,
      infrastructureError: res.infrastructureError,
      error: res.error,
      durationMs: res.durationMs,
    };
  }

  /** Called after a sandbox is destroyed: drops its base commit and editor history. */
  forget(sandboxId: string): void {
    this.tasks.delete(sandboxId);
    this.tools.forget(sandboxId);
  }
}

function parseTaskJson(text: string): SweTask {
  if (!text.trim()) throw new ValidationError("task_json is empty");
  const { tasks, errors } = parseTaskText(text, "task_json");
  if (errors[0]) throw errors[0];
  if (tasks.length !== 1) throw new ValidationError(`task_json must hold exactly one task, got ${tasks.length}`);
  return (tasks[0] as { task: SweTask }).task;
}
