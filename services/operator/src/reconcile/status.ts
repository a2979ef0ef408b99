import type { RLExperimentSpec, RLExperimentStatus } from "@sluice/common";
import { CONDITION_TYPES as T, REASONS as R } from "../constants.js";
import type { ComponentName, Experiment } from "../experiment.js";
import { setCondition, isTrue, findCondition, type Condition } from "./conditions.js";
import {
  deploymentFailure,
  deploymentReady,
  learnerFailures,
  learnerOutcome,
  learnerReady,
  type Observed,
} from "./observe.js";
import type { Progress } from "./progress.js";

export interface StatusInput {
  exp: Experiment;
  spec: RLExperimentSpec;
  observed: Observed;
  nowMs: number;
  progress: Progress | undefined;
  /** Why the experiment cannot be fully served right now (NATS down, an apply failed). */
  problems: { reason: string; message: string }[];
}

type ComponentCounts = NonNullable<RLExperimentStatus["components"]>;

/** Replicas each component should have (0 when suspended) and how many are ready. */
export function componentCounts(spec: RLExperimentSpec, observed: Observed, scaledDown: boolean): ComponentCounts {
  const out: ComponentCounts = {};
  const want = (c: ComponentName): number => {
    if (scaledDown) return 0;
    const block = spec.components[c];
    if (c === "actors") return block?.replicas ?? spec.rollout.actors;
    if (c === "learner") return 1;
    return block?.replicas ?? 1;
  };
  const components: ComponentName[] = ["gateway", "actors", "sandboxes", "reward", "learner"];
  if (spec.inference.backend !== "engine") components.unshift("inference");
  for (const c of components) {
    const ready = c === "learner" ? learnerReady(observed.learner) : deploymentReady(observed.deployments[c]);
    out[c] = { replicas: want(c), ready: Math.min(ready, want(c)) };
  }
  return out;
}

/** Terminal outcomes are sticky: a finished experiment stays finished whatever its children do later. */
export function terminalOf(status: RLExperimentStatus): "succeeded" | "failed" | undefined {
  if (isTrue(status.conditions, T.complete)) return "succeeded";
  if (isTrue(status.conditions, T.failed)) return "failed";
  return undefined;
}

/** The whole status from what was observed: one pure function, one write. */
export function computeStatus(input: StatusInput): RLExperimentStatus {
  const { exp, spec, observed, progress, problems } = input;
  const prev = exp.status;
  const now = new Date(input.nowMs).toISOString();
  const gen = exp.generation;
  let conds: Condition[] = [...(prev.conditions ?? [])];
  const set = (type: Condition["type"], status: Condition["status"], reason: string, message: string): void => {
    conds = setCondition(conds, { type: type as (typeof T)[keyof typeof T], status, reason, message }, now, gen);
  };

  let terminal = terminalOf(prev);
  const outcome = learnerOutcome(observed.learner);
  if (!terminal && outcome.state === "succeeded") {
    terminal = "succeeded";
    set(T.complete, "True", R.learnerSucceeded, `the learner finished ${spec.steps} steps`);
  } else if (!terminal && outcome.state === "failed") {
    terminal = "failed";
    set(T.failed, "True", outcome.reason, outcome.message);
  }

  const suspended = spec.suspend && !terminal;
  const cleanup = terminal === "succeeded" ? spec.runPolicy.cleanup.onSuccess : spec.runPolicy.cleanup.onFailure;
  const counts = componentCounts(spec, observed, suspended || (terminal !== undefined && cleanup !== "None"));
  const entries = Object.entries(counts);
  const wanted = entries.filter(([, c]) => c.replicas > 0);
  const readyCount = wanted.filter(([, c]) => c.ready >= c.replicas).length;
  const allReady = wanted.length > 0 && readyCount === wanted.length;

  set(T.admitted, "True", R.specValid, "the spec is valid");
  const prevSuspended = findCondition(prev.conditions, T.suspended);
  // "Resumed" stays the reason until the next suspend: it says this run went through one.
  const wasSuspended = prevSuspended?.status === "True" || prevSuspended?.reason === R.resumed;
  if (suspended) set(T.suspended, "True", R.suspendRequested, "workloads scaled to zero; streams and checkpoints kept");
  else
    set(
      T.suspended,
      "False",
      wasSuspended ? R.resumed : R.notSuspended,
      wasSuspended ? "resumed from the last checkpoint" : "",
    );

  const notReady = entries.filter(([, c]) => c.ready < c.replicas).map(([n, c]) => `${n} ${c.ready}/${c.replicas}`);
  if (terminal) set(T.componentsReady, "False", R.finished, "the experiment has finished");
  else if (suspended) set(T.componentsReady, "False", R.suspendRequested, "suspended");
  else if (allReady)
    set(T.componentsReady, "True", R.allComponentsReady, `${readyCount}/${wanted.length} components ready`);
  else set(T.componentsReady, "False", R.componentsNotReady, `waiting for ${notReady.join(", ")}`);

  if (terminal) set(T.progressing, "False", R.finished, terminal === "succeeded" ? "completed" : "failed");
  else if (suspended) set(T.progressing, "False", R.suspendRequested, "suspended");
  else if (allReady) set(T.progressing, "True", R.training, "every component is ready; training");
  else set(T.progressing, "True", R.starting, "starting components");

  const failing = [
    ...entries.map(([n]) => [n, deploymentFailure(observed.deployments[n as ComponentName])] as const),
    ...(!terminal && learnerFailures(observed.learner) > 0
      ? [
          [
            "learner",
            `${learnerFailures(observed.learner)} learner pod(s) failed; retrying from the last checkpoint`,
          ] as const,
        ]
      : []),
  ].filter(([, m]) => m !== undefined);
  const problem = problems[0];
  if (problem) set(T.degraded, "True", problem.reason, problems.map((p) => p.message).join("; "));
  else if (failing.length > 0)
    set(T.degraded, "True", R.componentFailing, failing.map(([n, m]) => `${n}: ${m}`).join("; "));
  else set(T.degraded, "False", R.asExpected, "");

  const phase =
    terminal === "succeeded"
      ? "Succeeded"
      : terminal === "failed"
        ? "Failed"
        : suspended
          ? "Suspended"
          : allReady
            ? "Running"
            : "Pending";
  const startTime = prev.startTime ?? (suspended ? undefined : now);
  const completionTime = terminal ? (prev.completionTime ?? now) : undefined;
  return {
    phase,
    observedGeneration: gen,
    conditions: conds,
    ready: `${readyCount}/${wanted.length}`,
    components: counts,
    ...(progress ? { progress } : {}),
    ...(startTime ? { startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
  };
}

/** Status of a spec that cannot run: Admitted=False with every problem named. */
export function invalidStatus(exp: Experiment, issues: string[], nowMs: number): RLExperimentStatus {
  const now = new Date(nowMs).toISOString();
  const conds = setCondition(
    exp.status.conditions ?? [],
    { type: T.admitted, status: "False", reason: R.invalidSpec, message: issues.join("; ").slice(0, 32_000) },
    now,
    exp.generation,
  );
  return { ...exp.status, phase: "Pending", observedGeneration: exp.generation, conditions: conds };
}

export { findCondition };
