import { spawn } from "node:child_process";
import { OutputCapture } from "./output-capture.js";

export interface RunOptions {
  file: string;
  args: readonly string[];
  stdin: Uint8Array;
  timeoutMs: number;
  /** Per stream: output kept from stdout and from stderr each. */
  maxOutputBytes: number;
  /** Host credentials to run under (only honoured when we are root). */
  uid?: number;
  gid?: number;
  /** Aborting kills the process group, like a timeout but not reported as one. */
  signal?: AbortSignal;
  /**
   * Open fds the child inherits as fd 3, 4, ... (e.g. a seccomp program for bwrap). The
   * caller keeps ownership and closes them; the child has its own copies once spawned.
   */
  extraFds?: readonly number[];
}

export interface RunResult {
  exitCode: number;
  signal: string;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
  outputTruncated: boolean;
  durationMs: number;
}

/** After the process is gone, wait this long for its pipes to drain before cutting them. */
const PIPE_DRAIN_MS = 2_000;

/**
 * Runs one process in its own process group with a wall-clock deadline. On timeout the
 * whole group gets SIGKILL, so shells and their children cannot outlive the deadline.
 */
export function runProcess(options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(options.file, [...options.args], {
      // detached = setsid: the child leads a new process group we can kill as a whole.
      detached: true,
      stdio: ["pipe", "pipe", "pipe", ...(options.extraFds ?? [])],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    const { stdin, stdout, stderr } = child;
    // "pipe" entries always yield these streams; the types cannot see that through the spread.
    if (!stdin || !stdout || !stderr) throw new Error("spawn returned without stdio pipes");
    const out = new OutputCapture(options.maxOutputBytes);
    const err = new OutputCapture(options.maxOutputBytes);
    let timedOut = false;
    let exited = false;
    let drainTimer: NodeJS.Timeout | undefined;

    const killGroup = (): void => {
      if (child.pid === undefined || exited) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone: nothing to kill.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = (): void => killGroup();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) killGroup();

    stdout.on("data", (c: Buffer) => out.push(c));
    stderr.on("data", (c: Buffer) => err.push(c));
    // The command may exit without reading its stdin; EPIPE on our side is expected then.
    stdin.on("error", () => undefined);
    stdin.end(Buffer.from(options.stdin));

    child.on("exit", () => {
      exited = true;
      // Our pid namespace makes escaped holders of the pipes unlikely, but never hang on them.
      drainTimer = setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
      }, PIPE_DRAIN_MS);
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (drainTimer) clearTimeout(drainTimer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve({
        exitCode: code ?? -1,
        signal: signal ?? "",
        stdout: out.result(),
        stderr: err.result(),
        timedOut,
        outputTruncated: out.truncated || err.truncated,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}
