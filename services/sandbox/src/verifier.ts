import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { errorMessage, type Logger, type SweTask } from "@sluice/common";
import type { SandboxBackend, SandboxLimitsSpec } from "./backend.js";
import { pathsInPatch } from "./environments/git.js";
import { createTaskSandbox, type TaskSandbox } from "./environments/task-sandbox.js";
import { runTaskTests, type TestRun } from "./environments/test-runner.js";
import { buildReport, type OutcomeLevelName, type SweBenchReport } from "./grading/index.js";

export interface VerifyInput {
  task: SweTask;
  patch: string;
  /** False when the agent never submitted: NO_SUBMIT whatever the patch. */
  submitted: boolean;
  episodeId: string;
  /** Relative env.lockfile paths resolve against this. */
  taskDir?: string;
  signal?: AbortSignal;
  /**
   * Grade an empty patch by running the tests anyway (level stays EMPTY_PATCH). Task-set
   * checks use it to prove the base state really fails its FAIL_TO_PASS tests.
   */
  runTestsOnEmptyPatch?: boolean;
}

export interface VerifyResult {
  level: OutcomeLevelName | "UNSPECIFIED";
  resolved: boolean;
  report: SweBenchReport;
  /** Grading could not be done; never to be read as a failed patch. */
  infrastructureError: boolean;
  error: string;
  durationMs: number;
  /** How the patch went in: "git apply", "git apply --reject", "patch --fuzz", or "". */
  applyMethod: string;
  testRun?: TestRun;
}

export interface VerifierOptions {
  backend: SandboxBackend;
  cacheDir: string;
  logger: Logger;
  /** Default directory for relative lockfile paths (the service's task set). */
  taskDir?: string;
  limits?: Partial<SandboxLimitsSpec>;
  applyTimeoutMs?: number;
}

const APPLY_ATTEMPTS: ReadonlyArray<{ name: string; argv: string[] }> = [
  { name: "git apply", argv: ["git", "apply", "--verbose", "--whitespace=nowarn", "-"] },
  { name: "git apply --reject", argv: ["git", "apply", "--verbose", "--reject", "--whitespace=nowarn", "-"] },
  { name: "patch --fuzz", argv: ["patch", "--batch", "--fuzz=5", "-p1", "--no-backup-if-mismatch"] },
];
// Undo a failed attempt completely before the next one (a --reject attempt applies partially).
const RESET = ["/bin/sh", "-c", "git checkout -q -- . && git clean -fdq"];
// Put every file the test patch touches back to its base state (SWE-bench does the same), so
// an agent's edits to those tests cannot stop the official ones from applying.
const RESET_TEST_FILES = [
  "/bin/bash",
  "-c",
  'base="$1"; shift; for p in "$@"; do if git cat-file -e "$base:$p" 2>/dev/null; then git checkout -q "$base" -- "$p"; else rm -rf -- "$p"; fi; done',
  "reset-test-files",
];

/**
 * Grades one patch for one task, SWE-bench style, in a fresh sandbox of the task's
 * environment: apply the patch (git apply, then --reject, then patch --fuzz), restore the
 * hidden paths, apply test_patch, run the tests with a machine-readable reporter, and map
 * statuses with the SWE-bench rules. Everything that is not the patch's fault is reported
 * as an infrastructure error.
 */
export class Verifier {
  constructor(private readonly options: VerifierOptions) {}

  async verify(input: VerifyInput): Promise<VerifyResult> {
    const started = performance.now();
    const { task } = input;
    const elapsed = (): number => Math.round(performance.now() - started);
    const early = (patchApplied: boolean): VerifyResult => {
      const graded = buildReport({
        instanceId: task.instance_id,
        submitted: input.submitted,
        patch: input.patch,
        patchApplied,
        problems: [],
        failToPass: task.FAIL_TO_PASS,
        passToPass: task.PASS_TO_PASS,
      });
      return {
        level: graded.level,
        resolved: graded.resolved,
        report: graded.report,
        infrastructureError: false,
        error: "",
        durationMs: elapsed(),
        applyMethod: "",
      };
    };
    const empty = input.patch.trim() === "";
    if (!input.submitted || (empty && !input.runTestsOnEmptyPatch)) return early(false);

    let sandbox: TaskSandbox | undefined;
    try {
      sandbox = await createTaskSandbox(this.options.backend, task, {
        cacheDir: this.options.cacheDir,
        logger: this.options.logger,
        episodeId: `verify-${input.episodeId}`,
        ...((input.taskDir ?? this.options.taskDir)
          ? { taskDir: (input.taskDir ?? this.options.taskDir) as string }
          : {}),
        ...(this.options.limits ? { limits: this.options.limits } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      const applyMethod = empty ? "none" : await this.applyPatch(sandbox.sandboxId, input.patch);
      if (!applyMethod) return early(false);
      await this.restoreHidden(sandbox);
      const testPatchError = await this.applyTestPatch(sandbox, task.test_patch);
      if (testPatchError) return this.infraError(task, input, testPatchError, elapsed());
      const run = await runTaskTests(this.options.backend, sandbox.sandboxId, task.env!, {
        ...(input.signal ? { signal: input.signal } : {}),
      });
      const graded = buildReport({
        instanceId: task.instance_id,
        submitted: true,
        patch: input.patch,
        patchApplied: !empty,
        statuses: run.statuses,
        problems: run.problems,
        failToPass: task.FAIL_TO_PASS,
        passToPass: task.PASS_TO_PASS,
      });
      return {
        level: graded.level,
        resolved: graded.resolved,
        report: graded.report,
        infrastructureError: false,
        error: "",
        durationMs: elapsed(),
        applyMethod,
        testRun: run,
      };
    } catch (err) {
      this.options.logger.warn("verification failed for infrastructure reasons", {
        instanceId: task.instance_id,
        episodeId: input.episodeId,
        err: errorMessage(err),
      });
      return this.infraError(task, input, errorMessage(err), elapsed());
    } finally {
      if (sandbox) {
        await this.options.backend.destroy(sandbox.sandboxId).catch((err: unknown) => {
          this.options.logger.warn("verifier sandbox destroy failed", { err: errorMessage(err) });
        });
      }
    }
  }

  private infraError(task: SweTask, input: VerifyInput, error: string, durationMs: number): VerifyResult {
    const graded = buildReport({
      instanceId: task.instance_id,
      submitted: input.submitted,
      patch: input.patch,
      patchApplied: false,
      problems: [error],
      infrastructureError: true,
      failToPass: task.FAIL_TO_PASS,
      passToPass: task.PASS_TO_PASS,
    });
    return {
      level: "UNSPECIFIED",
      resolved: false,
      report: graded.report,
      infrastructureError: true,
      error,
      durationMs,
      applyMethod: "",
    };
  }

  /** Returns the method that applied the patch, or "" when none did. */
  private async applyPatch(sandboxId: string, patch: string): Promise<string> {
    const stdin = Buffer.from(patch.endsWith("\n") ? patch : `${patch}\n`);
    for (const [i, attempt] of APPLY_ATTEMPTS.entries()) {
      if (i > 0) await this.exec(sandboxId, RESET, new Uint8Array());
      const res = await this.exec(sandboxId, attempt.argv, stdin);
      if (res.exitCode === 0 && !res.timedOut) return attempt.name;
    }
    await this.exec(sandboxId, RESET, new Uint8Array());
    return "";
  }

  private async restoreHidden(sandbox: TaskSandbox): Promise<void> {
    const root = sandbox.workspace.hiddenDir;
    for (const file of await listFiles(root)) {
      const rel = relative(root, file);
      await this.exec(sandbox.sandboxId, ["rm", "-rf", "--", rel], new Uint8Array());
      await this.options.backend.writeFile(sandbox.sandboxId, rel, await readFile(file));
    }
  }

  private async applyTestPatch(sandbox: TaskSandbox, testPatch: string): Promise<string> {
    if (!testPatch.trim()) return "";
    const paths = pathsInPatch(testPatch);
    await this.exec(sandbox.sandboxId, [...RESET_TEST_FILES, sandbox.baseCommit, ...paths], new Uint8Array());
    const res = await this.exec(
      sandbox.sandboxId,
      ["git", "apply", "--verbose", "--whitespace=nowarn", "-"],
      Buffer.from(testPatch.endsWith("\n") ? testPatch : `${testPatch}\n`),
    );
    if (res.exitCode === 0) return "";
    return `the task's test_patch does not apply: ${Buffer.from(res.stderr).toString().slice(-2000)}`;
  }

  private exec(sandboxId: string, argv: readonly string[], stdin: Uint8Array) {
    return this.options.backend.exec(sandboxId, {
      argv,
      stdin,
      timeoutMs: this.options.applyTimeoutMs ?? 60_000,
      maxOutputBytes: 64 * 1024,
      workdir: "",
    });
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}
