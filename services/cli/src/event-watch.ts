import { contracts, decodeEvent, experimentSubjects, severityName, type NatsConnection } from "@sluice/common";

export interface EventVerdict {
  /** Print it to the user. */
  show: boolean;
  /** Abort the run (a component crashed or could not start). */
  fatal: boolean;
  /** A reward-side rejection with this reason, counted into trajectories_dropped. */
  rejection?: string;
}

const FATAL_KINDS = new Set(["component_crashed", "component_failed_to_start"]);
const REJECTION_KINDS = new Set(["trajectory_rejected", "malformed_message"]);

export interface ClassifyOptions {
  /**
   * Components that die are restarted (spec.restart.maxRestarts > 0): a crash report is
   * shown, and the process's exit goes to the restart policy, which decides whether the run
   * can go on.
   */
  restartsAllowed?: boolean;
}

/** Decides what an event means to the CLI. Pure, so the policy is unit-tested. */
export function classifyEvent(e: contracts.Event, options: ClassifyOptions = {}): EventVerdict {
  const error = severityName(e.severity) === "error";
  const verdict: EventVerdict = {
    show:
      error ||
      FATAL_KINDS.has(e.kind) ||
      e.kind.endsWith("_stalled") ||
      e.kind === "learner_failed" ||
      e.kind === "component_restarted",
    fatal: FATAL_KINDS.has(e.kind) && options.restartsAllowed !== true,
  };
  // The learner counts its own malformed messages in GetStatus.trajectoriesDropped;
  // only the reward service's rejections are missing from that map.
  if (e.component === "reward" && REJECTION_KINDS.has(e.kind)) {
    verdict.rejection = e.attributes["reason"] ?? (e.kind === "malformed_message" ? "malformed" : "rejected");
  }
  return verdict;
}

export function formatEvent(e: contracts.Event): string {
  const sev = severityName(e.severity);
  const step = Number(e.step) > 0 ? ` step ${e.step}` : "";
  return `[${sev}] ${e.component}: ${e.kind}${step}${e.message ? ` - ${e.message}` : ""}`;
}

export interface EventWatcher {
  readonly rejections: Readonly<Record<string, number>>;
  stop(): void;
}

/**
 * Core-NATS subscription to sluice.<exp>.events: live events are enough for the CLI (the
 * stream keeps them for later inspection), and it needs no consumer state on the server.
 */
export function watchEvents(
  nc: NatsConnection,
  experiment: string,
  onEvent: (e: contracts.Event, verdict: EventVerdict) => void,
  options: ClassifyOptions = {},
): EventWatcher {
  const rejections: Record<string, number> = {};
  const sub = nc.subscribe(experimentSubjects(experiment).events);
  void (async () => {
    for await (const m of sub) {
      let e: contracts.Event;
      try {
        e = decodeEvent(m.data);
      } catch {
        continue; // Not ours to police; the publisher logs its own failures.
      }
      const verdict = classifyEvent(e, options);
      if (verdict.rejection !== undefined) {
        const n = e.values["count"];
        rejections[verdict.rejection] = (rejections[verdict.rejection] ?? 0) + (n !== undefined && n > 0 ? n : 1);
      }
      onEvent(e, verdict);
    }
  })();
  return { rejections, stop: () => sub.unsubscribe() };
}
