import type { ComponentSpec } from "@sluice/common";
import type { OperatorConfig } from "../config.js";
import type { Experiment } from "../experiment.js";
import { CONFIG_DIR, RUN_DIR, childName, labelsFor } from "./names.js";
import { strategicMerge } from "./strategic-merge.js";

export type Container = Record<string, unknown> & { name: string };

/** The per-component block of the spec, as far as pods go (image, resources, placement, override). */
export type PodSettings = Pick<ComponentSpec, "image" | "resources" | "nodeSelector" | "tolerations" | "podTemplate">;

export interface PodTemplateInput {
  exp: Experiment;
  component: string;
  containers: Container[];
  /** The container that gets the block's image and resources; default the first. */
  ownContainer?: string;
  settings: PodSettings | undefined;
  config: OperatorConfig;
  restartPolicy?: "Always" | "Never" | "OnFailure";
  /** Mount the run directory (checkpoints) from the experiment's volume. */
  runVolume?: boolean;
  annotations?: Record<string, string>;
}

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** Volume names on every pod of an experiment. */
export const VOLUMES = { config: "sluice-config", run: "sluice-run" } as const;

export function podTemplate(input: PodTemplateInput): PodTemplate {
  const { exp, component, settings, config } = input;
  const mounts: { name: string; mountPath: string; readOnly: boolean }[] = [
    { name: VOLUMES.config, mountPath: CONFIG_DIR, readOnly: true },
  ];
  if (input.runVolume) mounts.push({ name: VOLUMES.run, mountPath: RUN_DIR, readOnly: false });
  const ownName = input.ownContainer ?? input.containers[0]?.name;
  const containers = input.containers.map((c) => {
    const own = c.name === ownName;
    return {
      imagePullPolicy: config.imagePullPolicy,
      ...c,
      ...(own && settings?.image ? { image: settings.image } : {}),
      ...(own && settings?.resources ? { resources: settings.resources } : {}),
      volumeMounts: [...mounts, ...((c.volumeMounts as unknown[] | undefined) ?? [])],
      securityContext: { allowPrivilegeEscalation: false, ...(c.securityContext as object | undefined) },
    };
  });
  const volumes: unknown[] = [{ name: VOLUMES.config, configMap: { name: childName(exp, "config") } }];
  if (input.runVolume) {
    volumes.push(
      config.runVolume.kind === "pvc"
        ? { name: VOLUMES.run, persistentVolumeClaim: { claimName: childName(exp, "run") } }
        : { name: VOLUMES.run, emptyDir: {} },
    );
  }
  // Pods that ask for GPUs land on GPU nodes by default (the chart's gpu values); the block's own
  // nodeSelector / tolerations add to these.
  const wantsGpu = JSON.stringify(containers.map((c) => (c as { resources?: unknown }).resources ?? {})).includes(
    `"${config.gpu.resourceName}"`,
  );
  const nodeSelector = { ...(wantsGpu ? config.gpu.nodeSelector : {}), ...settings?.nodeSelector };
  const tolerations = [...(wantsGpu ? config.gpu.tolerations : []), ...(settings?.tolerations ?? [])];
  const base: PodTemplate = {
    metadata: {
      labels: labelsFor(exp, component),
      ...(input.annotations ? { annotations: input.annotations } : {}),
    },
    spec: {
      ...(input.restartPolicy ? { restartPolicy: input.restartPolicy } : {}),
      enableServiceLinks: false,
      // No service talks to the Kubernetes API (the sandbox service, which does, opts back in).
      automountServiceAccountToken: false,
      containers,
      volumes,
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
      ...(tolerations.length > 0 ? { tolerations } : {}),
    },
  };
  if (!settings?.podTemplate) return base;
  const merged = strategicMerge(base, settings.podTemplate) as PodTemplate;
  // The selector labels cannot be overridden: the Deployment and the status depend on them.
  merged.metadata = { ...merged.metadata, labels: { ...merged.metadata?.labels, ...labelsFor(exp, component) } };
  return merged;
}

/** gRPC readiness through the standard health protocol every service speaks. */
export function grpcProbe(port: number): Record<string, unknown> {
  return { grpc: { port }, periodSeconds: 5, failureThreshold: 3 };
}

export function envFromPodName(name: string): Record<string, unknown> {
  return { name, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } };
}
