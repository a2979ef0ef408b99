import type { RLExperimentSpec, ServiceName } from "@sluice/common";
import type { OperatorConfig } from "../config.js";
import type { ComponentName, Experiment } from "../experiment.js";
import { TYPES } from "../kube/resources.js";
import type { KubeObject } from "../kube/types.js";
import { PORTS, childName, labelsFor, ownerReference, selectorFor } from "./names.js";
import { envFromPodName, grpcProbe, podTemplate, type Container, type PodSettings } from "./pod-template.js";
import { runtimePath } from "./runtime-files.js";

/** Shared by every builder: who the child belongs to and how its pods look. */
export interface BuildContext {
  exp: Experiment;
  spec: RLExperimentSpec;
  config: OperatorConfig;
  /** Hash of the ConfigMap contents: a changed spec rolls the Deployments. */
  configHash: string;
  /** Workloads scaled to zero (suspend). */
  scaledDown: boolean;
}

export function meta(ctx: BuildContext, name: string, component: string): KubeObject["metadata"] {
  return {
    name,
    namespace: ctx.exp.namespace,
    labels: labelsFor(ctx.exp, component),
    ownerReferences: [ownerReference(ctx.exp)],
  };
}

/** A TypeScript service's container in the services image (docker/services.Dockerfile). */
export function serviceContainer(ctx: BuildContext, service: ServiceName, name: string): Container {
  return {
    name,
    image: ctx.config.image,
    // The services image's entrypoint (tini + docker/entrypoint.sh) takes the service name first.
    args: [service, "--runtime", runtimePath(service)],
    ports: [
      { name: "grpc", containerPort: PORTS.grpc },
      { name: "metrics", containerPort: PORTS.metrics },
      ...(service === "gateway" ? [{ name: "http", containerPort: PORTS.http }] : []),
    ],
    readinessProbe: grpcProbe(PORTS.grpc),
  };
}

interface DeploymentInput {
  component: ComponentName;
  replicas: number;
  containers: Container[];
  settings: PodSettings | undefined;
}

export function deployment(ctx: BuildContext, input: DeploymentInput): KubeObject {
  const name = childName(ctx.exp, input.component);
  return {
    apiVersion: TYPES.deployment.apiVersion,
    kind: TYPES.deployment.kind,
    metadata: meta(ctx, name, input.component),
    spec: {
      replicas: ctx.scaledDown ? 0 : input.replicas,
      selector: { matchLabels: selectorFor(ctx.exp, input.component) },
      template: podTemplate({
        exp: ctx.exp,
        component: input.component,
        containers: input.containers,
        settings: input.settings,
        config: ctx.config,
        annotations: { "sluice.dev/config-hash": ctx.configHash },
      }),
    },
  };
}

export function service(
  ctx: BuildContext,
  component: ComponentName,
  ports: { name: string; port: number }[],
): KubeObject {
  return {
    apiVersion: TYPES.service.apiVersion,
    kind: TYPES.service.kind,
    metadata: meta(ctx, childName(ctx.exp, component), component),
    spec: {
      selector: selectorFor(ctx.exp, component),
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: "TCP" })),
    },
  };
}

const GRPC_PORTS = [
  { name: "grpc", port: PORTS.grpc },
  { name: "metrics", port: PORTS.metrics },
];

/** Gateway, actors, sandbox service and reward service: Deployments, and Services for those called. */
export function serviceWorkloads(ctx: BuildContext): KubeObject[] {
  const c = ctx.spec.components;
  const out: KubeObject[] = [];
  const simple: [ComponentName, ServiceName, PodSettings | undefined, number][] = [
    ["gateway", "gateway", c.gateway, c.gateway?.replicas ?? 1],
    ["sandboxes", "sandbox", c.sandboxes, c.sandboxes?.replicas ?? 1],
    ["reward", "reward", c.reward, c.reward?.replicas ?? 1],
  ];
  for (const [component, svc, settings, replicas] of simple) {
    const d = deployment(ctx, { component, replicas, containers: [serviceContainer(ctx, svc, component)], settings });
    if (component === "sandboxes" && ctx.config.sandboxRole) {
      // The sandbox service creates sandbox pods: it runs as the ServiceAccount bound to the sandbox role.
      const pod = (d.spec as { template: { spec: Record<string, unknown> } }).template.spec;
      pod.serviceAccountName = childName(ctx.exp, "sandboxes");
      pod.automountServiceAccountToken = true;
      const container = (pod.containers as Container[])[0]!;
      container.env = [...((container.env as unknown[] | undefined) ?? []), ...sandboxPoolEnv(ctx)];
    }
    out.push(d);
    const ports = component === "gateway" ? [...GRPC_PORTS, { name: "http", port: PORTS.http }] : GRPC_PORTS;
    out.push(service(ctx, component, ports));
  }
  // Each actor pod names itself (group and trajectory ids must not collide across actors).
  const actor = serviceContainer(ctx, "actor", "actors");
  actor.env = [envFromPodName("SLUICE_ACTOR_ID")];
  out.push(
    deployment(ctx, {
      component: "actors",
      replicas: c.actors?.replicas ?? ctx.spec.rollout.actors,
      containers: [actor],
      settings: c.actors,
    }),
  );
  return out;
}

/** How the sandbox service's Kubernetes backend runs its pool (services/sandbox/src/kubernetes/from-env.ts). */
function sandboxPoolEnv(ctx: BuildContext): Record<string, unknown>[] {
  const pool = ctx.spec.components.sandboxes?.pool;
  const limits = pool?.resources?.limits ?? {};
  const field = (name: string, path: string) => ({ name, valueFrom: { fieldRef: { fieldPath: path } } });
  const value = (name: string, v: string | number | undefined) => (v === undefined ? [] : [{ name, value: String(v) }]);
  return [
    field("SLUICE_SANDBOX_K8S_NAMESPACE", "metadata.namespace"),
    field("SLUICE_SANDBOX_K8S_POD_NAME", "metadata.name"),
    field("SLUICE_SANDBOX_K8S_POD_UID", "metadata.uid"),
    { name: "SLUICE_SANDBOX_K8S_EXEC_IMAGE", value: ctx.config.image },
    ...value("SLUICE_SANDBOX_K8S_WARM_PODS", pool?.warmPods),
    ...value("SLUICE_SANDBOX_K8S_MAX_PODS", pool?.maxPods),
    ...value(
      "SLUICE_SANDBOX_K8S_RUNTIME_CLASS",
      pool?.runtimeClassName ?? (ctx.config.sandboxRuntimeClass || undefined),
    ),
    ...value("SLUICE_SANDBOX_K8S_ACTIVE_DEADLINE_SECONDS", pool?.activeDeadlineSeconds),
    ...value("SLUICE_SANDBOX_K8S_CPU", limits.cpu),
    ...value("SLUICE_SANDBOX_K8S_MEMORY", limits.memory),
    ...value("SLUICE_SANDBOX_K8S_EPHEMERAL_STORAGE", limits["ephemeral-storage"]),
  ];
}
