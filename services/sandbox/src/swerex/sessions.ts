import { randomBytes } from "node:crypto";
import type { Logger } from "@sluice/common";
import type { ExecResult, SandboxBackend } from "../backend.js";
import { SWEREX, SwerexException } from "./errors.js";
import type { BashAction, BashInterruptAction, CreateBashSessionRequest } from "./models.js";
import { pyRepr, pySeconds, secondsToMs, signalNumber } from "./py-format.js";
import {
  SESSION_SCRIPT,
  parseDump,
  sessionStdin,
  sideChannelNoise,
  startupCommand,
  type ParsedDump,
  type SessionState,
} from "./session-script.js";

export interface BashObservation {
  output: string;
  exit_code: number | null;
  failure_reason: string;
  expect_string: string;
  session_type: "bash";
}

interface SessionRecord {
  /** undefined until the startup command reported a state. */
  state: SessionState | undefined;
  /** Calls on one session run one at a time: each needs the state the previous one left. */
  tail: Promise<unknown>;
}

interface ScriptRun {
  res: ExecResult;
  output: string;
  dump: ParsedDump | undefined;
  noise: string;
}

export interface SessionManagerOptions {
  backend: SandboxBackend;
  logger: Logger;
  /** Sessions one sandbox may hold (default 32). */
  maxSessionsPerSandbox?: number;
  /** Floor for create_session's timeout: sandbox start-up is not the caller's budget (default 10 s). */
  minStartupTimeoutMs?: number;
}

/** SWE-ReX bash sessions, emulated per sandbox on top of one-shot backend commands. */
export class SessionManager {
  private readonly bySandbox = new Map<string, Map<string, SessionRecord>>();
  private readonly maxSessions: number;
  private readonly minStartupMs: number;

  constructor(private readonly options: SessionManagerOptions) {
    this.maxSessions = options.maxSessionsPerSandbox ?? 32;
    this.minStartupMs = options.minStartupTimeoutMs ?? 10_000;
  }

  async create(sandboxId: string, req: CreateBashSessionRequest): Promise<{ output: string; session_type: "bash" }> {
    const sessions = this.sessionsOf(sandboxId);
    if (sessions.has(req.session)) {
      throw new SwerexException(SWEREX.sessionExists, `session ${req.session} already exists`);
    }
    if (sessions.size >= this.maxSessions) {
      throw new SwerexException(
        "builtins.RuntimeError",
        `sandbox already has ${this.maxSessions} sessions; close one before creating another`,
      );
    }
    // Registered before the first await so a concurrent create of the same name fails, and
    // with the start-up as its queue head so an early run_in_session waits for the state.
    const record: SessionRecord = { state: undefined, tail: Promise.resolve() };
    sessions.set(req.session, record);
    const started = this.start(sandboxId, req, record);
    record.tail = started.catch(() => undefined);
    try {
      return await started;
    } catch (err) {
      if (sessions.get(req.session) === record) sessions.delete(req.session);
      throw err;
    }
  }

  private async start(
    sandboxId: string,
    req: CreateBashSessionRequest,
    record: SessionRecord,
  ): Promise<{ output: string; session_type: "bash" }> {
    const timeoutMs = Math.max(secondsToMs(req.startupTimeout), this.minStartupMs);
    const run = await this.runScript(sandboxId, undefined, startupCommand(req.startupSource), timeoutMs);
    if (run.res.timedOut) {
      throw new SwerexException(
        SWEREX.commandTimeout,
        `timeout after ${pySeconds(timeoutMs / 1000)} seconds while starting session ${req.session}`,
      );
    }
    if (!run.dump) throw new SwerexException("builtins.RuntimeError", startFailure(req.session, run));
    record.state = run.dump.state;
    return { output: run.output, session_type: "bash" };
  }

  async run(sandboxId: string, action: BashAction | BashInterruptAction): Promise<BashObservation> {
    const record = this.get(sandboxId, action.session);
    if (action.actionType === "bash_interrupt") {
      // Commands never outlive their request, so between calls there is nothing to interrupt.
      return observation("", 0);
    }
    if (action.isInteractiveCommand || action.isInteractiveQuit) {
      throw new SwerexException(
        "builtins.NotImplementedError",
        "interactive commands are not supported: every command runs in a fresh sandbox process, so no program stays alive between calls",
      );
    }
    if (action.command.includes("\0")) throw new SwerexException("builtins.ValueError", "command contains a NUL byte");
    const result = record.tail.then(() => this.runAction(sandboxId, record, action));
    record.tail = result.catch(() => undefined);
    return result;
  }

  close(sandboxId: string, session: string): { session_type: "bash" } {
    this.get(sandboxId, session);
    this.bySandbox.get(sandboxId)?.delete(session);
    return { session_type: "bash" };
  }

  /** Drops every session of a sandbox (it was destroyed). */
  forgetSandbox(sandboxId: string): void {
    this.bySandbox.delete(sandboxId);
  }

  private async runAction(sandboxId: string, record: SessionRecord, action: BashAction): Promise<BashObservation> {
    // Queued behind a start-up that failed, or a close: the session is gone.
    if (this.bySandbox.get(sandboxId)?.get(action.session) !== record) throw sessionMissing(action.session);
    const run = await this.runScript(sandboxId, record.state, action.command, secondsToMs(action.timeout));
    if (run.res.timedOut) {
      const limit = action.timeout === undefined ? "the sandbox's default" : pySeconds(action.timeout);
      throw new SwerexException(
        SWEREX.commandTimeout,
        `timeout after ${limit} seconds while running command ${pyRepr(action.command)}`,
      );
    }
    if (run.dump) record.state = run.dump.state;
    else if (run.noise) this.options.logger.warn("session state not captured", { sandboxId, stderr: run.noise });
    if (run.dump?.kind === "syntax") {
      throw new SwerexException(
        SWEREX.syntax,
        `Error (exit code 2) while checking bash command \n${pyRepr(action.command)}\n---- Stderr ----\n${run.output}\n---- Stdout ----\n`,
        { bash_stdout: "", bash_stderr: run.output },
      );
    }
    const output = run.dump || !run.noise ? run.output : `${run.output}${run.noise}\n`;
    const exitCode = run.dump?.exitCode ?? shellExitCode(run.res);
    if (action.check === "ignore") return observation(output, null);
    if (action.check === "raise" && exitCode !== 0) {
      let msg = `Command ${pyRepr(action.command)} failed with exit code ${exitCode}. Here is the output:\n${pyRepr(output)}`;
      if (action.errorMsg) msg = `${action.errorMsg}: ${msg}`;
      throw new SwerexException(SWEREX.nonZeroExit, msg);
    }
    return observation(output, exitCode);
  }

  private async runScript(
    sandboxId: string,
    state: SessionState | undefined,
    command: string,
    timeoutMs: number,
  ): Promise<ScriptRun> {
    const nonce = randomBytes(12).toString("hex");
    const res = await this.options.backend.exec(sandboxId, {
      argv: ["/bin/bash", "-c", SESSION_SCRIPT, "sluice-session", nonce],
      stdin: sessionStdin(state, command),
      timeoutMs,
      maxOutputBytes: 0,
      workdir: "",
    });
    const side = Buffer.from(res.stderr).toString("utf8");
    return {
      res,
      output: Buffer.from(res.stdout).toString("utf8"),
      dump: parseDump(side, nonce),
      noise: sideChannelNoise(side, nonce),
    };
  }

  private sessionsOf(sandboxId: string): Map<string, SessionRecord> {
    let sessions = this.bySandbox.get(sandboxId);
    if (!sessions) {
      sessions = new Map();
      this.bySandbox.set(sandboxId, sessions);
    }
    return sessions;
  }

  private get(sandboxId: string, session: string): SessionRecord {
    const record = this.bySandbox.get(sandboxId)?.get(session);
    if (!record) throw sessionMissing(session);
    return record;
  }
}

function sessionMissing(session: string): SwerexException {
  return new SwerexException(SWEREX.sessionMissing, `session ${pyRepr(session)} does not exist`);
}

function observation(output: string, exitCode: number | null): BashObservation {
  return { output, exit_code: exitCode, failure_reason: "", expect_string: "", session_type: "bash" };
}

/** What `$?` would have said: 128+N for a signal, as bash reports a killed child. */
function shellExitCode(res: ExecResult): number {
  return res.signal ? 128 + signalNumber(res.signal) : res.exitCode;
}

function startFailure(session: string, run: ScriptRun): string {
  const why = run.res.signal ? `killed by ${run.res.signal}` : `exit code ${run.res.exitCode}`;
  return `session ${session} failed to start (${why}): ${run.noise || run.output}`.trim();
}
