import { performance } from "node:perf_hooks";
import type { SandboxBackend } from "../backend.js";
import { runBash } from "./bash-tool.js";
import { DEFAULT_EDITOR_OPTIONS, runEditor, type EditorOptions } from "./editor.js";
import { FileHistory } from "./file-history.js";
import { elideMiddle, formatObservation } from "./observation.js";
import { SandboxFiles } from "./sandbox-files.js";
import { SUBMITTED_OUTPUT } from "./submit-tool.js";
import { parseToolCall } from "./tool-call.js";

/** One tool call's result; mirrors RunToolResponse in proto/sluice/v1/sandbox.proto. */
export interface ToolResult {
  observation: string;
  exitCode: number;
  outputTruncated: boolean;
  elapsedMs: number;
  invalid: boolean;
  invalidReason: string;
  submitted: boolean;
  timedOut: boolean;
}

export interface ToolRunnerOptions {
  /** Used when a call does not set its own timeout. */
  defaultTimeoutMs: number;
  /** Used when a call does not set its own; output past it is elided in the middle. */
  maxObservationBytes: number;
  /** Bound on the undo history kept per sandbox (default 32 MiB). */
  maxHistoryBytes?: number;
  editor?: Partial<EditorOptions>;
}

export interface RunToolOptions {
  /** 0 or absent: the runner's default. */
  timeoutMs?: number;
  /** 0 or absent: the runner's default. */
  maxObservationBytes?: number;
}

/** Return code of a call that never ran (like a shell's status for a usage error). */
export const INVALID_CALL_EXIT_CODE = 2;

const DEFAULT_HISTORY_BYTES = 32 * 1024 * 1024;

/**
 * Runs the SWE agent's tools in sandboxes. Agent mistakes (unknown tool, malformed
 * arguments, a path outside the workspace, an old_str that does not match) come back as
 * observations; errors of the sandbox or the infrastructure are thrown. The editor's undo
 * history lives here, per sandbox, because every sandbox command runs in fresh namespaces
 * and only the workspace persists; `forget` drops it when the sandbox goes.
 */
export class ToolRunner {
  private readonly histories = new Map<string, FileHistory>();
  private readonly editorOptions: EditorOptions;

  constructor(
    private readonly backend: SandboxBackend,
    private readonly options: ToolRunnerOptions,
  ) {
    for (const [k, v] of [
      ["defaultTimeoutMs", options.defaultTimeoutMs],
      ["maxObservationBytes", options.maxObservationBytes],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${k} must be a positive integer: ${v}`);
    }
    this.editorOptions = { ...DEFAULT_EDITOR_OPTIONS, ...options.editor };
  }

  async run(
    sandboxId: string,
    toolName: string,
    argumentsJson: string,
    options: RunToolOptions = {},
  ): Promise<ToolResult> {
    const started = performance.now();
    const timeoutMs = positive(options.timeoutMs) ?? this.options.defaultTimeoutMs;
    const maxObservationBytes = positive(options.maxObservationBytes) ?? this.options.maxObservationBytes;
    const elapsed = (): number => Math.round(performance.now() - started);
    const parsed = parseToolCall(toolName, argumentsJson);
    if (!parsed.ok) {
      const out = elideMiddle(parsed.invalid.message, maxObservationBytes);
      return {
        ...result(INVALID_CALL_EXIT_CODE, out.text, out.truncated, elapsed()),
        invalid: true,
        invalidReason: parsed.invalid.reason,
      };
    }
    const call = parsed.call;
    switch (call.tool) {
      case "submit":
        return { ...result(0, SUBMITTED_OUTPUT, false, elapsed()), submitted: true };
      case "bash": {
        const res = await runBash(this.backend, sandboxId, call.command, { timeoutMs, maxObservationBytes });
        return { ...result(res.exitCode, res.output, res.outputTruncated, elapsed()), timedOut: res.timedOut };
      }
      case "str_replace_editor": {
        const files = new SandboxFiles(this.backend, sandboxId, timeoutMs);
        const res = await runEditor(files, this.history(sandboxId), call, this.editorOptions);
        const out = elideMiddle(res.output, maxObservationBytes);
        return result(res.ok ? 0 : 1, out.text, out.truncated, elapsed());
      }
    }
  }

  /** Drops what the runner keeps for a sandbox (its undo history); call when it is destroyed. */
  forget(sandboxId: string): void {
    this.histories.delete(sandboxId);
  }

  private history(sandboxId: string): FileHistory {
    let h = this.histories.get(sandboxId);
    if (!h) {
      h = new FileHistory(this.options.maxHistoryBytes ?? DEFAULT_HISTORY_BYTES);
      this.histories.set(sandboxId, h);
    }
    return h;
  }
}

function result(exitCode: number, output: string, truncated: boolean, elapsedMs: number): ToolResult {
  return {
    observation: formatObservation(exitCode, output),
    exitCode,
    outputTruncated: truncated,
    elapsedMs,
    invalid: false,
    invalidReason: "",
    submitted: false,
    timedOut: false,
  };
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}
