import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { withDeadline } from "../deadline.js";
import { SluiceError } from "../errors.js";

/** One control-plane process of a test cluster, its output in `<logDir>/<name>.log`. */
export interface ClusterProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** The exit, once it happened (a process that dies during startup fails the start at once). */
  exited: Promise<number | null>;
  /** Last lines of the log, for error messages. */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

// Children are killed if the test process exits without stop() (a failed assertion in before()):
// an orphaned kube-apiserver would keep a share of the machine's two cores for nothing.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });
}

export function startProcess(name: string, binary: string, args: string[], logDir: string): ClusterProcess {
  installExitHook();
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ["ignore", fd, fd], env: { ...process.env } });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      live.delete(child);
      resolve(code);
    });
    child.once("error", () => {
      live.delete(child);
      resolve(-1);
    });
  });
  const tail = (lines = 30): string => {
    try {
      return readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  };
  const stop = async (graceMs = 5_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await withDeadline(exited, graceMs, `${name} stop`).catch(async () => {
      child.kill("SIGKILL");
      await withDeadline(exited, 5_000, `${name} kill`).catch(() => undefined);
    });
  };
  return { name, child, logFile, exited, tail, stop };
}

/** Rejects when `proc` exits: raced against a readiness wait so a crash fails at once, with its log. */
export function failOnExit(proc: ClusterProcess): Promise<never> {
  return proc.exited.then((code) => {
    throw new SluiceError(`${proc.name} exited with ${code} during startup; log ${proc.logFile}:\n${proc.tail()}`);
  });
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with a deadline; a non-zero exit is a result, not an error. */
export function run(
  binary: string,
  args: string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      binary,
      args,
      {
        timeout: options.timeoutMs ?? 60_000,
        killSignal: "SIGKILL",
        maxBuffer: 64 * 1024 * 1024,
        env: options.env ?? process.env,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        const timedOut = err !== null && err.killed === true;
        resolve({
          code,
          stdout,
          stderr: timedOut ? `${stderr}\n(killed after ${options.timeoutMs ?? 60_000} ms)` : stderr,
        });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}
