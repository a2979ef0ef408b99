import { API_VERSION, KIND, LABELS, MANAGED_BY } from "../constants.js";
import type { Experiment } from "../experiment.js";
import type { OwnerReference } from "../kube/types.js";

/** Fixed container ports: each pod has its own IP, so every service can use the same ones. */
export const PORTS = {
  grpc: 50051,
  metrics: 9090,
  http: 8080,
  engineGrpc: 50061,
  engineMetrics: 9091,
  inferenceHttp: 8000,
} as const;

/** Where the ConfigMap (spec + runtime files) and the run directory are mounted. */
export const CONFIG_DIR = "/etc/sluice";
export const RUN_DIR = "/var/lib/sluice/run";

/** Child object names: <experiment>-<component>. */
export function childName(exp: Pick<Experiment, "name">, part: string): string {
  return `${exp.name}-${part}`;
}

export function serviceHost(exp: Pick<Experiment, "name" | "namespace">, part: string): string {
  return `${childName(exp, part)}.${exp.namespace}.svc`;
}

/** Labels on every child: the selector of the experiment's pods and the informers' filter. */
export function labelsFor(exp: Pick<Experiment, "name">, component: string): Record<string, string> {
  return {
    [LABELS.name]: "sluice",
    [LABELS.instance]: exp.name,
    [LABELS.component]: component,
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.partOf]: "sluice",
    [LABELS.experiment]: exp.name,
  };
}

export function selectorFor(exp: Pick<Experiment, "name">, component: string): Record<string, string> {
  return { [LABELS.experiment]: exp.name, [LABELS.component]: component };
}

/** controller: true so `kubectl` and the garbage collector know who owns the child. */
export function ownerReference(exp: Pick<Experiment, "name" | "uid">): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: exp.name,
    uid: exp.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
