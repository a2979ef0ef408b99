import { type NpmTaskEnv } from "@sluice/common";
import type { SandboxBackend } from "../backend.js";
import { crossCheck, parseTap, parseJunit, type TestStatus } from "../grading/index.js";

export interface TestFileRun {
  file: string;
  exitCode: number;
  timedOut: boolean;
  signal: string;
  durationMs: number;
  /** Inconsistencies between the exit code and the parsed results (anti-spoofing). */
  problems: string[];
  /** The last few KB of the file's output, for logs and problem statements. */
  outputTail: string;
}

export interface TestRun {
  statuses: Map<string, TestStatus>;
  failureMessages: Map<string, string[]>;
  files: TestFileRun[];
  problems: string[];
  durationMs: number;
}

/** TAP for a suite is small; anything beyond this is a runaway test, cut (and inconsistent). */
const MAX_TEST_OUTPUT_BYTES = 8 * 1024 * 1024;
const TAIL_CHARS = 4_000;

/**
 * Runs a task's tests inside a sandbox, one process per test file (so one file's crash cannot
 * hide another's results, and ids carry the file), and parses each with the task's
 * machine-readable reporter. Never scrapes free text: a file whose output does not parse, or
 * whose exit code disagrees with its results, has its tests marked failed.
 */
export async function runTaskTests(
  backend: SandboxBackend,
  sandboxId: string,
  env: NpmTaskEnv,
  options: { signal?: AbortSignal } = {},
): Promise<TestRun> {
  const started = performance.now();
  const statuses = new Map<string, TestStatus>();
  const failureMessages = new Map<string, string[]>();
  const files: TestFileRun[] = [];
  const problems: string[] = [];
  for (const file of env.test_files) {
    if (options.signal?.aborted) throw options.signal.reason;
    const res = await backend.exec(sandboxId, {
      argv: [...env.test_command, file],
      timeoutMs: env.timeouts.test_ms,
      stdin: new Uint8Array(),
      maxOutputBytes: MAX_TEST_OUTPUT_BYTES,
      workdir: "",
    });
    const stdout = Buffer.from(res.stdout).toString();
    const parsed = env.result_parser === "junit" ? parseJunit(stdout) : parseTap(stdout, file);
    const check = crossCheck({
      exitCode: res.exitCode,
      timedOut: res.timedOut,
      signal: res.signal,
      outputTruncated: res.outputTruncated,
      parsed,
    });
    for (const t of check.tests) {
      statuses.set(t.id, t.status);
      if (t.failureMessages.length > 0) failureMessages.set(t.id, t.failureMessages);
    }
    const fileProblems = check.problems.map((p) => `${file}: ${p}`);
    problems.push(...fileProblems);
    files.push({
      file,
      exitCode: res.exitCode,
      timedOut: res.timedOut,
      signal: res.signal,
      durationMs: res.durationMs,
      problems: fileProblems,
      outputTail: (stdout + Buffer.from(res.stderr).toString()).slice(-TAIL_CHARS),
    });
  }
  return { statuses, failureMessages, files, problems, durationMs: Math.round(performance.now() - started) };
}
