import { API_VERSION, KIND, PLURAL } from "../constants.js";
import type { ResourceType } from "./types.js";

interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

/** The kinds the operator touches. A static table: no discovery round trip per call. */
const RESOURCES: Record<string, ResourceInfo> = {
  [`${API_VERSION}/${KIND}`]: { plural: PLURAL, namespaced: true },
  "v1/ConfigMap": { plural: "configmaps", namespaced: true },
  "v1/Service": { plural: "services", namespaced: true },
  "v1/Pod": { plural: "pods", namespaced: true },
  "v1/Event": { plural: "events", namespaced: true },
  "v1/PersistentVolumeClaim": { plural: "persistentvolumeclaims", namespaced: true },
  "v1/Namespace": { plural: "namespaces", namespaced: false },
  "apps/v1/Deployment": { plural: "deployments", namespaced: true },
  "batch/v1/Job": { plural: "jobs", namespaced: true },
  "jobset.x-k8s.io/v1alpha2/JobSet": { plural: "jobsets", namespaced: true },
  "coordination.k8s.io/v1/Lease": { plural: "leases", namespaced: true },
  "networking.k8s.io/v1/NetworkPolicy": { plural: "networkpolicies", namespaced: true },
  "v1/ServiceAccount": { plural: "serviceaccounts", namespaced: true },
  "rbac.authorization.k8s.io/v1/RoleBinding": { plural: "rolebindings", namespaced: true },
};

export const TYPES = {
  experiment: { apiVersion: API_VERSION, kind: KIND },
  configMap: { apiVersion: "v1", kind: "ConfigMap" },
  service: { apiVersion: "v1", kind: "Service" },
  pod: { apiVersion: "v1", kind: "Pod" },
  event: { apiVersion: "v1", kind: "Event" },
  pvc: { apiVersion: "v1", kind: "PersistentVolumeClaim" },
  deployment: { apiVersion: "apps/v1", kind: "Deployment" },
  job: { apiVersion: "batch/v1", kind: "Job" },
  jobSet: { apiVersion: "jobset.x-k8s.io/v1alpha2", kind: "JobSet" },
  lease: { apiVersion: "coordination.k8s.io/v1", kind: "Lease" },
  networkPolicy: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
  serviceAccount: { apiVersion: "v1", kind: "ServiceAccount" },
  roleBinding: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding" },
} as const satisfies Record<string, ResourceType>;

export function resourceInfo(type: ResourceType): ResourceInfo {
  const info = RESOURCES[`${type.apiVersion}/${type.kind}`];
  if (!info) throw new Error(`no REST mapping for ${type.apiVersion} ${type.kind}`);
  return info;
}

/** /api/v1/namespaces/ns/pods[/name] or /apis/group/version/... */
export function resourcePath(type: ResourceType, namespace?: string, name?: string): string {
  const info = resourceInfo(type);
  const base = type.apiVersion.includes("/") ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const tail = name ? `/${encodeURIComponent(name)}` : "";
  return `${base}${ns}/${info.plural}${tail}`;
}

export function sameType(a: ResourceType, b: ResourceType): boolean {
  return a.apiVersion === b.apiVersion && a.kind === b.kind;
}
