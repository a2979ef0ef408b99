import { LABELS } from "../constants.js";
import { COMPONENTS, type ComponentName, type Experiment } from "../experiment.js";
import { TYPES } from "../kube/resources.js";
import type { KubeApi, KubeObject } from "../kube/types.js";

/** What the experiment's workloads report, read fresh each reconcile (level-triggered). */
export interface Observed {
  deployments: Partial<Record<ComponentName, KubeObject>>;
  /** The learner's Job or JobSet. */
  learner?: KubeObject;
}

export type LearnerOutcome =
  { state: "running" } | { state: "succeeded" } | { state: "failed"; reason: string; message: string };

export async function observeChildren(api: KubeApi, exp: Experiment, useJobSet: boolean): Promise<Observed> {
  const selector = { namespace: exp.namespace, labelSelector: `${LABELS.experiment}=${exp.name}` };
  const [deployments, learners] = await Promise.all([
    api.list(TYPES.deployment, selector),
    api.list(useJobSet ? TYPES.jobSet : TYPES.job, selector),
  ]);
  const out: Observed = { deployments: {} };
  for (const d of deployments.items) {
    const c = d.metadata.labels?.[LABELS.component] as ComponentName | undefined;
    if (c && COMPONENTS.includes(c) && ownedBy(d, exp)) out.deployments[c] = d;
  }
  out.learner = learners.items.find((j) => j.metadata.labels?.[LABELS.component] === "learner" && ownedBy(j, exp));
  return out;
}

export function ownedBy(obj: KubeObject, exp: Experiment): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => r.uid === exp.uid && r.controller === true);
}

interface K8sCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Job: Complete / Failed conditions. JobSet: Completed / Failed. */
export function learnerOutcome(learner: KubeObject | undefined): LearnerOutcome {
  const conds = ((learner?.status as { conditions?: K8sCondition[] } | undefined)?.conditions ?? []).filter(
    (c) => c.status === "True",
  );
  if (conds.some((c) => c.type === "Complete" || c.type === "Completed")) return { state: "succeeded" };
  const failed = conds.find((c) => c.type === "Failed");
  if (failed) {
    const reason = /^[A-Za-z][A-Za-z0-9]*$/.test(failed.reason ?? "") ? failed.reason! : "LearnerFailed";
    return { state: "failed", reason, message: failed.message ?? "the learner failed" };
  }
  return { state: "running" };
}

/** Ready learner pods: Job status.ready, or the JobSet's replicated-job counts. */
export function learnerReady(learner: KubeObject | undefined): number {
  const s = (learner?.status ?? {}) as { ready?: number; replicatedJobsStatus?: { ready?: number }[] };
  if (s.replicatedJobsStatus) return s.replicatedJobsStatus.reduce((a, r) => a + (r.ready ?? 0), 0);
  return s.ready ?? 0;
}

/** Pods of the learner that failed and are being replaced (Degraded before the Job gives up). */
export function learnerFailures(learner: KubeObject | undefined): number {
  return ((learner?.status ?? {}) as { failed?: number }).failed ?? 0;
}

export function deploymentReady(d: KubeObject | undefined): number {
  return ((d?.status ?? {}) as { readyReplicas?: number }).readyReplicas ?? 0;
}

export function deploymentFailure(d: KubeObject | undefined): string | undefined {
  const conds = ((d?.status ?? {}) as { conditions?: K8sCondition[] }).conditions ?? [];
  const bad = conds.find((c) => c.type === "ReplicaFailure" && c.status === "True");
  return bad ? (bad.message ?? bad.reason ?? "replica failure") : undefined;
}
