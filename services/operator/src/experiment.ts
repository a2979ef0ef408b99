import { rlExperimentSpecSchema, type RLExperimentSpec, type RLExperimentStatus } from "@sluice/common";
import type { KubeObject } from "./kube/types.js";

/** The components the operator runs, with their status keys. */
export const COMPONENTS = ["inference", "gateway", "actors", "sandboxes", "reward", "learner"] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** An RLExperiment as the reconciler sees it: identity, the parsed spec (or its problems), the last status. */
export interface Experiment {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  deletionTimestamp?: string;
  finalizers: string[];
  creationTimestamp?: string;
  spec?: RLExperimentSpec;
  issues: string[];
  status: RLExperimentStatus;
  raw: KubeObject;
}

/** Parses a resource with the same schema `sluice up` uses, so the defaults are the same. */
export function readExperiment(obj: KubeObject): Experiment {
  const parsed = rlExperimentSpecSchema.safeParse(obj.spec ?? {});
  const issues = parsed.success
    ? []
    : parsed.error.issues.map((i) => `spec${i.path.length ? "." + i.path.join(".") : ""}: ${i.message}`);
  return {
    name: obj.metadata.name,
    namespace: obj.metadata.namespace ?? "default",
    uid: obj.metadata.uid ?? "",
    generation: obj.metadata.generation ?? 0,
    deletionTimestamp: obj.metadata.deletionTimestamp,
    finalizers: obj.metadata.finalizers ?? [],
    creationTimestamp: obj.metadata.creationTimestamp,
    spec: parsed.success ? parsed.data : undefined,
    issues,
    status: (obj.status ?? {}) as RLExperimentStatus,
    raw: obj,
  };
}
