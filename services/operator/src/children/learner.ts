import { TYPES } from "../kube/resources.js";
import type { KubeObject } from "../kube/types.js";
import { PORTS, childName } from "./names.js";
import { grpcProbe, podTemplate } from "./pod-template.js";
import { engineArgs, localSpec } from "./runtime-files.js";
import { meta, service, serviceContainer, type BuildContext } from "./workloads.js";

/**
 * The learner and its engine: one pod (the learner drives the engine over loopback), run to
 * completion. restartPolicy Never so every failure is a new pod counted against backoffLimit,
 * and each new pod resumes from the newest checkpoint on the run volume. Suspending the Job
 * deletes its pod; resuming starts a new one that resumes the same way.
 */
function learnerJobSpec(ctx: BuildContext): Record<string, unknown> {
  const { exp, spec, config } = ctx;
  const learner = serviceContainer(ctx, "learner", "learner");
  const engine = {
    name: "engine",
    image: config.engineImage,
    // The engine image's entrypoint is `tini -- python -m sluice_engine`: only the arguments go here.
    args: engineArgs(exp, localSpec(exp, spec)).slice(2),
    ports: [
      { name: "engine-grpc", containerPort: PORTS.engineGrpc },
      { name: "engine-metrics", containerPort: PORTS.engineMetrics },
    ],
    readinessProbe: grpcProbe(PORTS.engineGrpc),
  };
  const policy = spec.runPolicy;
  return {
    suspend: ctx.scaledDown,
    parallelism: 1,
    completions: 1,
    backoffLimit: policy.backoffLimit,
    ...(policy.activeDeadlineSeconds ? { activeDeadlineSeconds: policy.activeDeadlineSeconds } : {}),
    template: podTemplate({
      exp,
      component: "learner",
      containers: [learner, engine],
      // The block's image and resources (GPUs) are the engine's: it does the tensor work.
      ownContainer: "engine",
      settings: spec.components.learner,
      config,
      restartPolicy: "Never",
      runVolume: true,
    }),
  };
}

export function learnerJob(ctx: BuildContext): KubeObject {
  return {
    apiVersion: TYPES.job.apiVersion,
    kind: TYPES.job.kind,
    metadata: meta(ctx, childName(ctx.exp, "learner"), "learner"),
    spec: learnerJobSpec(ctx),
  };
}

/** The same pod as a JobSet (when its CRD is installed): restarts as a group, network identity for later multi-node learners. */
export function learnerJobSet(ctx: BuildContext): KubeObject {
  const { backoffLimit, ...jobSpec } = learnerJobSpec(ctx);
  const { suspend, ...perJob } = jobSpec;
  return {
    apiVersion: TYPES.jobSet.apiVersion,
    kind: TYPES.jobSet.kind,
    metadata: meta(ctx, childName(ctx.exp, "learner"), "learner"),
    spec: {
      suspend,
      failurePolicy: { maxRestarts: backoffLimit },
      replicatedJobs: [{ name: "learner", replicas: 1, template: { spec: { ...perJob, backoffLimit: 0 } } }],
    },
  };
}

export function learnerService(ctx: BuildContext): KubeObject {
  return service(ctx, "learner", [
    { name: "grpc", port: PORTS.grpc },
    { name: "metrics", port: PORTS.metrics },
    { name: "engine-grpc", port: PORTS.engineGrpc },
    { name: "engine-metrics", port: PORTS.engineMetrics },
  ]);
}
