import { errorMessage, sleep } from "@sluice/common";
import { ChildExitedError, RunFailedError } from "./errors.js";
import type { RestartPolicy } from "./restart-policy.js";
import type { ChildSpec, ManagedChild, Supervisor } from "./supervisor.js";

/** One component started again (the line `sluice up` logs and the event it publishes). */
export interface ComponentRestart {
  component: string;
  pid: number | undefined;
  previousPid: number | undefined;
  /** The component's own restart count (1 = first); dependents restarted with another keep theirs. */
  attempt: number;
  delayMs: number;
  /** Why: the previous process's exit, or the component whose restart made this one necessary. */
  reason: string;
  /** Set when restarted because `dependentOf` was restarted (not counted against its budget). */
  dependentOf?: string;
}

export interface RestarterOptions {
  supervisor: Supervisor;
  policy: RestartPolicy;
  /** gRPC health address of a component; a restart counts as done once it serves again. */
  healthAddress(component: string): string | undefined;
  healthTimeoutMs(component: string): number;
  /**
   * Components that hold state derived from another one and must start over when it does:
   * the learner loaded its checkpoint into the engine's memory, and a fresh engine has the
   * initial weights, so the learner is restarted (and resumes, loading the checkpoint into
   * the new engine) unless it already started after the engine died.
   */
  dependents: Readonly<Record<string, readonly string[]>>;
  /**
   * The spec a component's `incarnation`-th restart runs with (default: the same). An actor
   * needs a new identity: admission leases are held by actor id, and a successor under the
   * old id would keep renewing its predecessor's groups, which then are never run again.
   */
  respec?: (spec: ChildSpec, incarnation: number) => ChildSpec;
  /** SIGTERM grace for a live dependent being restarted. */
  stopGraceMs: number;
  /** Aborted when the run ends: pending restarts are dropped. */
  signal: AbortSignal;
  onRestarted(restart: ComponentRestart): void;
  /** The run cannot go on (budget spent, a restart that never became healthy). */
  onGiveUp(err: Error): void;
}

/** Restarts components that die, as the RestartPolicy allows; see RestarterOptions. */
export class Restarter {
  /** Processes started per component after its first (restarts and dependent restarts). */
  private readonly incarnations = new Map<string, number>();

  constructor(private readonly o: RestarterOptions) {}

  /** Supervisor's onUnexpectedExit. */
  handleExit(child: ManagedChild, err: ChildExitedError): void {
    if (this.o.signal.aborted) return;
    const decision = this.o.policy.decide(child.name);
    if (!decision.restart) {
      // Restarts off: the exit itself is the error, as it always was.
      const why = this.o.policy.enabled
        ? new RunFailedError(`${err.message} (not restarted: ${decision.reason})`, { cause: err })
        : err;
      this.o.onGiveUp(why);
      return;
    }
    const diedAtMs = Date.now();
    void this.restart(child, decision.attempt, decision.delayMs, exitReason(child), diedAtMs).catch((e: unknown) =>
      this.o.onGiveUp(e instanceof Error ? e : new Error(String(e))),
    );
  }

  private async restart(
    old: ManagedChild,
    attempt: number,
    delayMs: number,
    reason: string,
    diedAtMs: number,
    dependentOf?: string,
  ): Promise<void> {
    try {
      await sleep(delayMs, this.o.signal);
    } catch {
      return; // the run ended while we waited
    }
    if (this.o.signal.aborted) return;
    const incarnation = (this.incarnations.get(old.name) ?? 0) + 1;
    this.incarnations.set(old.name, incarnation);
    const fresh = this.o.supervisor.respawn(old, this.o.respec?.(old.spec, incarnation) ?? old.spec);
    this.o.onRestarted({
      component: old.name,
      pid: fresh.pid,
      previousPid: old.pid,
      attempt,
      delayMs,
      reason,
      ...(dependentOf !== undefined ? { dependentOf } : {}),
    });
    if (!(await this.waitHealthy(fresh))) return;
    for (const name of this.o.dependents[old.name] ?? []) await this.restartDependent(name, old.name, diedAtMs);
  }

  /** False when the fresh process died again (its own exit is handled like any other). */
  private async waitHealthy(child: ManagedChild): Promise<boolean> {
    const address = this.o.healthAddress(child.name);
    if (address === undefined) return true;
    try {
      await this.o.supervisor.waitHealthy(child, address, this.o.healthTimeoutMs(child.name));
      return true;
    } catch (err) {
      if (err instanceof ChildExitedError || this.o.signal.aborted) return false;
      throw new RunFailedError(
        `${child.name} did not become healthy after a restart: ${errorMessage(err)}; see ${child.spec.logFile ?? "its output"}`,
        { cause: err },
      );
    }
  }

  private async restartDependent(name: string, cause: string, causeDiedAtMs: number): Promise<void> {
    const dep = this.o.supervisor.current(name);
    // Dead: its own pending restart starts it after `cause` died. Newer: it already is fresh.
    if (!dep || !dep.running || dep.startedAtMs >= causeDiedAtMs || this.o.signal.aborted) return;
    await dep.stop(this.o.stopGraceMs);
    await this.restart(dep, this.o.policy.count(name), 0, `${cause} restarted`, Date.now(), cause);
  }
}

function exitReason(child: ManagedChild): string {
  const info = child.exitInfo;
  if (!info) return "unknown exit";
  if (info.spawnError !== undefined) return `failed to start: ${info.spawnError}`;
  return info.signal !== null ? `killed by ${info.signal}` : `exited with code ${info.code ?? "?"}`;
}
