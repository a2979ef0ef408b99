import { spawn } from "node:child_process";
import { SluiceError } from "@sluice/common";

/** A host-side build step (npm, tar, git) that failed; carries the command and its stderr tail. */
export class EnvironmentBuildError extends SluiceError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(message, { context, retryable: true, ...(cause === undefined ? {} : { cause }) });
    this.name = "EnvironmentBuildError";
  }
}

export interface HostCommandOptions {
  cwd?: string;
  timeoutMs: number;
  env?: Readonly<Record<string, string>>;
  stdin?: string | Uint8Array;
  signal?: AbortSignal;
  /** Exit codes that are not failures (default [0]). */
  okCodes?: readonly number[];
}

export interface HostCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const TAIL_BYTES = 4_000;
/** Keep at most this much of each stream; builder commands are not chatty, npm can be. */
const MAX_CAPTURE = 64 * 1024 * 1024;

/**
 * Runs a trusted host command (never agent code: that only runs in a sandbox) in its own
 * process group with a deadline, and turns failure into an EnvironmentBuildError naming the
 * command and the end of its stderr.
 */
export function runHostCommand(
  file: string,
  args: readonly string[],
  options: HostCommandOptions,
): Promise<HostCommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...(options.env ?? {}) },
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    const kill = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    options.signal?.addEventListener("abort", kill, { once: true });
    child.stdout.on("data", (c: Buffer) => {
      if (outBytes < MAX_CAPTURE) out.push(c);
      outBytes += c.length;
    });
    child.stderr.on("data", (c: Buffer) => {
      if (errBytes < MAX_CAPTURE) err.push(c);
      errBytes += c.length;
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
    const command = [file, ...args].join(" ");
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new EnvironmentBuildError(`${file} failed to start: ${e.message}`, { command }, e));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", kill);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      const exitCode = code ?? -1;
      if (timedOut) {
        reject(new EnvironmentBuildError(`${command} timed out after ${options.timeoutMs} ms`, { command }));
      } else if (options.signal?.aborted) {
        reject(new EnvironmentBuildError(`${command} aborted`, { command }));
      } else if (!(options.okCodes ?? [0]).includes(exitCode)) {
        const why = signal ? `signal ${signal}` : `exit ${exitCode}`;
        reject(
          new EnvironmentBuildError(`${command} failed (${why}): ${stderr.slice(-TAIL_BYTES).trim()}`, {
            command,
            exitCode,
          }),
        );
      } else {
        resolve({ exitCode, stdout, stderr });
      }
    });
  });
}
