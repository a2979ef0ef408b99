import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { ChildExitedError } from "./errors.js";
import { waitForServing } from "./health.js";

export interface ChildSpec {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended here; ignored when absent. */
  logFile?: string;
  /** Stopped after every other child (nats-server: the others need it to shut down cleanly). */
  stopLast?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  spawnError?: string;
}

/** One supervised process, leader of its own process group. */
export class ManagedChild {
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  /** True once the supervisor asked it to stop, so its exit is expected. */
  stopping = false;
  /** When it was spawned (a restarted dependency is newer than the dependents started before it). */
  readonly startedAtMs = Date.now();

  constructor(
    readonly spec: ChildSpec,
    readonly process: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      process.once("error", (err) => {
        // 'error' without a pid means spawn failed and no 'exit' will follow.
        if (process.pid === undefined) this.settle({ code: null, signal: null, spawnError: err.message }, resolve);
      });
      process.once("exit", (code, signal) => this.settle({ code, signal }, resolve));
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The error that describes this child's exit, for messages and aborts. */
  exitError(): ChildExitedError {
    const info = this.exitInfo ?? { code: null, signal: null };
    const err = new ChildExitedError(this.name, info.code, info.signal, this.spec.logFile);
    if (info.spawnError) err.message = `${this.name} failed to start: ${info.spawnError}`;
    return err;
  }

  /** Sends `signal` to the whole process group so grandchildren go too. */
  signalGroup(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  /** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves once the leader has exited. */
  async stop(graceMs: number): Promise<ExitInfo> {
    this.stopping = true;
    if (this.running) {
      this.signalGroup("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), graceMs);
      });
      const first = await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
      if (first === "timeout") this.signalGroup("SIGKILL");
    }
    const info = await this.exited;
    // Leftover group members (grandchildren that ignored SIGTERM) must not outlive the run.
    this.signalGroup("SIGKILL");
    return info;
  }

  private settle(info: ExitInfo, resolve: (i: ExitInfo) => void): void {
    if (this.exitInfo !== undefined) return;
    this.exitInfo = info;
    resolve(info);
  }
}

export interface SupervisorOptions {
  /** Called once per child that exits while not being stopped. */
  onUnexpectedExit?: (child: ManagedChild, err: ChildExitedError) => void;
}

/**
 * Starts processes, waits for their gRPC health, and stops them in reverse start order.
 * Each child leads its own process group: a terminal Ctrl-C reaches only the CLI, which then
 * stops children in order (the services need NATS while they drain), and a group kill also
 * takes grandchildren (sandboxes) down.
 */
export class Supervisor {
  private readonly children: ManagedChild[] = [];
  private closed = false;
  private readonly onExitHook = (): void => this.killAllNow();

  constructor(private readonly options: SupervisorOptions = {}) {
    // Last resort when the CLI itself dies abruptly (uncaught error, process.exit).
    process.once("exit", this.onExitHook);
  }

  get started(): readonly ManagedChild[] {
    return this.children;
  }

  start(spec: ChildSpec): ManagedChild {
    const child = this.spawn(spec);
    this.children.push(child);
    return child;
  }

  /** The newest process started under `name` (a restarted child replaces its predecessor). */
  current(name: string): ManagedChild | undefined {
    return this.children.find((c) => c.name === name);
  }

  /**
   * Starts `old`'s spec (or `spec`, its next incarnation) in `old`'s place, so stop order and
   * pids stay per component.
   * Refused once stopAll began: nothing may start while the run shuts down.
   */
  respawn(old: ManagedChild, spec: ChildSpec = old.spec): ManagedChild {
    const i = this.children.indexOf(old);
    if (i < 0) throw new Error(`internal: ${old.name} (pid ${old.pid ?? "none"}) is not a current child`);
    if (this.closed) throw new Error(`not restarting ${old.name}: the supervisor is stopping`);
    old.stopping = true;
    old.signalGroup("SIGKILL"); // leftovers of the dead leader's group (sandboxes) go with it
    const child = this.spawn(spec);
    this.children[i] = child;
    return child;
  }

  private spawn(spec: ChildSpec): ManagedChild {
    const fd = spec.logFile ? openSync(spec.logFile, "a") : undefined;
    let proc: ChildProcess;
    try {
      proc = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        detached: true,
        stdio: ["ignore", fd ?? "ignore", fd ?? "ignore"],
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const child = new ManagedChild(spec, proc);
    void child.exited.then(() => {
      if (!child.stopping) this.options.onUnexpectedExit?.(child, child.exitError());
    });
    return child;
  }

  /** Waits for gRPC health SERVING; fails early with ChildExitedError if the child exits. */
  async waitHealthy(child: ManagedChild, address: string, timeoutMs: number): Promise<void> {
    const abort = new AbortController();
    void child.exited.then(() => abort.abort(child.exitError()));
    try {
      await waitForServing(address, child.name, { timeoutMs, signal: abort.signal });
    } finally {
      if (!abort.signal.aborted) abort.abort(new Error("health wait finished"));
    }
  }

  /**
   * Stops every child: SIGTERM in reverse start order, all waiting in parallel up to
   * `graceMs` before SIGKILL; children marked stopLast (nats-server) go afterwards.
   */
  async stopAll(graceMs: number, beforeLast?: () => Promise<void>): Promise<void> {
    this.closed = true;
    const reversed = [...this.children].reverse();
    const first = reversed.filter((c) => !c.spec.stopLast);
    const last = reversed.filter((c) => c.spec.stopLast);
    for (const c of first) c.stopping = true;
    for (const c of last) c.stopping = true;
    await Promise.all(first.map((c) => c.stop(graceMs)));
    await beforeLast?.();
    await Promise.all(last.map((c) => c.stop(graceMs)));
    process.removeListener("exit", this.onExitHook);
  }

  /** Synchronous SIGKILL of every group; safe inside a process 'exit' handler. */
  killAllNow(): void {
    this.closed = true;
    for (const c of this.children) {
      c.stopping = true;
      c.signalGroup("SIGKILL");
    }
  }
}
