import { createHash } from "node:crypto";
import type { RLExperimentSpec } from "@sluice/common";
import type { OperatorConfig } from "../config.js";
import type { Experiment } from "../experiment.js";
import { TYPES } from "../kube/resources.js";
import type { KubeObject } from "../kube/types.js";
import { inferenceWorkload } from "./inference.js";
import { learnerJob, learnerJobSet, learnerService } from "./learner.js";
import { childName } from "./names.js";
import { sandboxNetworkPolicy, sandboxServiceAccess } from "./sandbox-access.js";
import { RUNTIME_SERVICES, localSpec, runtimeConfigFor, runtimeFileName } from "./runtime-files.js";
import { meta, serviceWorkloads, type BuildContext } from "./workloads.js";

export interface DesiredOptions {
  config: OperatorConfig;
  /** Workloads scaled to zero: suspend. */
  scaledDown: boolean;
  /** Finished with cleanup DeleteWorkloads / DeleteAll: only the config and the run volume remain. */
  workloadsDeleted: boolean;
  /** Run the learner as a JobSet (its CRD is installed). */
  useJobSet: boolean;
}

/** Every child of an experiment, as the operator wants it: a pure function of the spec. */
export function desiredChildren(exp: Experiment, spec: RLExperimentSpec, o: DesiredOptions): KubeObject[] {
  const configMap = configMapFor(exp, spec, o.config);
  const ctx: BuildContext = {
    exp,
    spec,
    config: o.config,
    configHash: hashOf(configMap.data),
    scaledDown: o.scaledDown,
  };
  const out: KubeObject[] = [configMap];
  if (o.config.runVolume.kind === "pvc") out.push(runVolumeClaim(ctx, o.config.runVolume));
  if (o.workloadsDeleted) return out;
  out.push(...inferenceWorkload(ctx), ...serviceWorkloads(ctx), sandboxNetworkPolicy(ctx));
  if (o.config.sandboxRole) out.push(...sandboxServiceAccess(ctx, o.config.sandboxRole));
  out.push(o.useJobSet ? learnerJobSet(ctx) : learnerJob(ctx), learnerService(ctx));
  return out;
}

function configMapFor(
  exp: Experiment,
  spec: RLExperimentSpec,
  config: OperatorConfig,
): KubeObject & { data: Record<string, string> } {
  const data: Record<string, string> = { "spec.json": JSON.stringify(localSpec(exp, spec), null, 2) };
  for (const s of RUNTIME_SERVICES)
    data[runtimeFileName(s)] = JSON.stringify(runtimeConfigFor(exp, spec, s, config.natsUrl), null, 2);
  return {
    apiVersion: TYPES.configMap.apiVersion,
    kind: TYPES.configMap.kind,
    metadata: meta({ exp, spec, config, configHash: "", scaledDown: false }, childName(exp, "config"), "config"),
    data,
  };
}

function runVolumeClaim(ctx: BuildContext, v: { size: string; storageClassName?: string }): KubeObject {
  return {
    apiVersion: TYPES.pvc.apiVersion,
    kind: TYPES.pvc.kind,
    metadata: meta(ctx, childName(ctx.exp, "run"), "run"),
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: v.size } },
      ...(v.storageClassName ? { storageClassName: v.storageClassName } : {}),
    },
  };
}

function hashOf(data: Record<string, string>): string {
  return createHash("sha256").update(JSON.stringify(data)).digest("hex").slice(0, 16);
}
