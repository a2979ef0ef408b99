import type { SandboxBackend } from "../backend.js";
import { SWEREX, SwerexException } from "./errors.js";
import type { CommandRequest } from "./models.js";
import { pyRepr, pySeconds, secondsToMs, signalNumber } from "./py-format.js";

export interface CommandResponse {
  stdout: string;
  stderr: string;
  exit_code: number | null;
}

/**
 * The argv for a SWE-ReX Command, with subprocess.run semantics: `shell` runs the string
 * (or a list's first item, the rest becoming $0, $1…) with bash -c; otherwise a list is the
 * argv and a string the program. `env` replaces the environment (as in Python); `cwd` and
 * `merge_output_streams` go through a small /bin/sh wrapper.
 */
export function commandArgv(req: CommandRequest): string[] {
  const list = typeof req.command === "string" ? [req.command] : req.command;
  if (list.length === 0 || list[0] === "")
    throw new SwerexException("builtins.ValueError", "command must not be empty");
  if (list.some((a) => a.includes("\0")))
    throw new SwerexException("builtins.ValueError", "command contains a NUL byte");
  let argv = req.shell ? ["/bin/bash", "-c", ...list] : [...list];
  if (req.env) {
    const assignments = Object.entries(req.env).map(([k, v]) => {
      if (k === "" || k.includes("=") || k.includes("\0") || v.includes("\0")) {
        throw new SwerexException("builtins.ValueError", `illegal environment variable name or value: ${pyRepr(k)}`);
      }
      return `${k}=${v}`;
    });
    argv = ["/usr/bin/env", "-i", "--", ...assignments, ...argv];
  }
  if (req.cwd !== undefined || req.mergeOutputStreams) {
    const merge = req.mergeOutputStreams ? " 2>&1" : "";
    argv = ["/bin/sh", "-c", `cd -- "$1" || exit 1; shift; exec "$@"${merge}`, "sh", req.cwd ?? ".", ...argv];
  }
  return argv;
}

export async function executeCommand(
  backend: SandboxBackend,
  sandboxId: string,
  req: CommandRequest,
): Promise<CommandResponse> {
  const res = await backend.exec(sandboxId, {
    argv: commandArgv(req),
    stdin: new Uint8Array(),
    timeoutMs: secondsToMs(req.timeout),
    maxOutputBytes: 0,
    workdir: "",
  });
  if (res.timedOut) {
    const limit = req.timeout === undefined ? "the sandbox's default" : `${pySeconds(req.timeout)}s`;
    throw new SwerexException(SWEREX.commandTimeout, `Timeout (${limit}) exceeded while running command`);
  }
  const stdout = Buffer.from(res.stdout).toString("utf8");
  const stderr = Buffer.from(res.stderr).toString("utf8");
  // subprocess reports a signal death as -N.
  const exitCode = res.signal ? -signalNumber(res.signal) : res.exitCode;
  if (req.check && exitCode !== 0) {
    const shown = typeof req.command === "string" ? pyRepr(req.command) : `[${req.command.map(pyRepr).join(", ")}]`;
    let msg = `Command ${shown} failed with exit code ${exitCode}. Stdout:\n${pyRepr(stdout)}\nStderr:\n${pyRepr(stderr)}`;
    if (req.errorMsg) msg = `${req.errorMsg}: ${msg}`;
    throw new SwerexException(SWEREX.nonZeroExit, msg);
  }
  return { stdout, stderr, exit_code: exitCode };
}
